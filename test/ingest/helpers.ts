// Shared helpers for the ingest integration tests: a supervisor with a log capture, waiting on states and frames,
// decoding HLS segments frame by frame, and the ffmpeg children of this test process.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { pino } from 'pino';
import { CameraSchema, EngineSchema, HlsSchema, IngestSchema, RecordingSchema } from '../../config/schema.ts';
import { engineGrid } from '../../pipelines/engine/create.ts';
import type { CameraSupervisor } from '../../pipelines/ingest/supervisor.ts';
import { CameraSupervisor as Supervisor } from '../../pipelines/ingest/supervisor.ts';
import { ShowinfoParser } from '../../pipelines/ingest/frame-stream.ts';
import type { CameraSnapshot, Frame } from '../../pipelines/ingest/types.ts';
import type { CameraState } from '../../server/wire.ts';
import { lazyRecordingIndex } from '../support/store.ts';

export interface Harness {
  sup: CameraSupervisor;
  logs: string[];
  states: CameraSnapshot[];
  frames: Frame[];
}

export function makeSupervisor(dataDir: string, camera: Record<string, unknown>, ingest: Record<string, unknown> = {}, hls: Record<string, unknown> = {}): Harness {
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void logs.push(s) });
  const sup = new Supervisor({
    camera: CameraSchema.parse({ id: 'cam', ...camera }),
    ingest: IngestSchema.parse({ backoff: { initialMs: 200, maxMs: 1000 }, ...ingest }),
    hls: HlsSchema.parse({ segmentSeconds: 1, liveSegments: 6, ...hls }),
    recording: RecordingSchema.parse({}),
    dataDir,
    logger,
    // A real SQLite store in the test data folder, opened on first use and left open until the test process ends.
    recordings: lazyRecordingIndex(dataDir),
    grid: engineGrid(EngineSchema.parse({})),
  });
  const h: Harness = { sup, logs, states: [], frames: [] };
  sup.on('state', (s) => h.states.push(s));
  sup.on('frame', (f) => h.frames.push(f));
  return h;
}

/** Resolves with the first state snapshot (current or future) that satisfies `pred`. */
export function waitForState(sup: CameraSupervisor, pred: (s: CameraSnapshot) => boolean, timeoutMs: number, what = 'state'): Promise<CameraSnapshot> {
  return new Promise((resolve, reject) => {
    const now = sup.snapshot();
    if (pred(now)) return resolve(now);
    const timer = setTimeout(() => {
      sup.off('state', on);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; now ${JSON.stringify(sup.snapshot())}\n${sup.stderrTail().slice(-8).join('\n')}`));
    }, timeoutMs);
    const on = (s: CameraSnapshot) => {
      if (!pred(s)) return;
      clearTimeout(timer);
      sup.off('state', on);
      resolve(s);
    };
    sup.on('state', on);
  });
}

export const isState = (state: CameraState) => (s: CameraSnapshot) => s.state === state;

/** Resolves once `n` more frames arrived (from now). */
export function nextFrames(sup: CameraSupervisor, n: number, timeoutMs: number): Promise<Frame[]> {
  return new Promise((resolve, reject) => {
    const got: Frame[] = [];
    const timer = setTimeout(() => {
      sup.off('frame', on);
      reject(new Error(`got ${got.length}/${n} frames in ${timeoutMs} ms; ${JSON.stringify(sup.snapshot())}`));
    }, timeoutMs);
    const on = (f: Frame) => {
      got.push(f);
      if (got.length < n) return;
      clearTimeout(timer);
      sup.off('frame', on);
      resolve(got);
    };
    sup.on('frame', on);
  });
}

export interface DecodedFrame {
  /** Seconds since the segment's first frame. */
  offset: number;
  rgb: Buffer;
}

/** Decodes every frame of an HLS segment to small RGB pictures with its offset from the segment start. */
export function decodeSegment(path: string, width = 320, height = 180): DecodedFrame[] {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-copyts', '-i', path, '-vf', `showinfo=checksum=0,scale=${width}:${height}`,
    // passthrough: one picture per decoded frame (the rawvideo default pads variable-rate video to a 25 fps grid).
    '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 30 });
  const parser = new ShowinfoParser();
  const times: number[] = [];
  for (const line of r.stderr.toString().split('\n')) {
    const p = parser.parse(line);
    if ('frame' in p) times.push(p.frame.seconds);
  }
  const size = width * height * 3;
  const out: DecodedFrame[] = [];
  for (let i = 0; i < times.length && (i + 1) * size <= r.stdout.length; i++) {
    out.push({ offset: times[i]! - times[0]!, rgb: r.stdout.subarray(i * size, (i + 1) * size) });
  }
  return out;
}

/** PIDs of ffmpeg processes whose parent is this test process. */
export function ffmpegChildren(): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,comm='], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim().split(/\s+/)).filter((p) => Number(p[1]) === process.pid && p[2] === 'ffmpeg').map((p) => Number(p[0]));
}

/** Whether a PID is a live process (a zombie counts as gone). */
export function alive(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  try {
    return readFileSync(stat, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
