// Transcoding cost: one 1080p30 H.265 camera (Chromium plays no HEVC, so Vigil decodes it and re-encodes H.264 for
// the live HLS) against one 1080p30 H.264 camera (copied), both sampled at 1 frame/s with Vigil's defaults (decode
// auto), the same picture (noisy testsrc2, GOP 1 s, ~4 Mbps) played as a live feed from a file. CPU is each ffmpeg
// child's utime+stime (/proc/<pid>/stat), measured one after the other in the same run; the ratio is the result.
// pipelines/ingest/transcode.ts TRANSCODE_CORES_1080P30 (what doctor adds up) comes from here.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { CameraSchema, EngineSchema, HlsSchema, IngestSchema, RecordingSchema } from '../../config/schema.ts';
import { engineGrid } from '../../pipelines/engine/create.ts';
import { CameraSupervisor } from '../../pipelines/ingest/supervisor.ts';
import { openSqliteStore, storeFileIn } from '../../pipelines/store/index.ts';
import { TRANSCODE_CORES_1080P30 } from '../../pipelines/ingest/transcode.ts';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const MEASURE_S = Number(process.env.VIGIL_BENCH_TRANSCODE_SECONDS ?? 15);
/** Temporal noise strength: 12 is a grainy scene (night, cheap sensor), 4 a quiet daytime one. */
const NOISE = Number(process.env.VIGIL_BENCH_TRANSCODE_NOISE ?? 12);
const SOURCES = {
  h264: join(tmpdir(), `vigil-bench-transcode-1080p30-noise${NOISE}-h264.mp4`),
  hevc: join(tmpdir(), `vigil-bench-transcode-1080p30-noise${NOISE}-hevc.mp4`),
};

function makeSource(codec: 'h264' | 'hevc'): string {
  const file = SOURCES[codec];
  if (existsSync(file)) return file;
  console.log(`generating 8 s of 1080p30 ${codec} (noisy testsrc2, GOP 30, ~4 Mbps)...`);
  const enc = codec === 'h264'
    ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0']
    : ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error:bframes=0', '-tag:v', 'hvc1'];
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30:duration=8',
    '-vf', `noise=alls=${NOISE}:allf=t,format=yuv420p`, ...enc, '-b:v', '4M', '-maxrate', '4M', '-bufsize', '8M',
    '-g', '30', '-keyint_min', '30', '-sc_threshold', '0', file], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`could not generate the ${codec} bench source`);
  return file;
}

function ffmpegChildren(): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,comm='], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim().split(/\s+/)).filter((p) => Number(p[1]) === process.pid && p[2] === 'ffmpeg').map((p) => Number(p[0]));
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Measured {
  /** CPU per second of wall time. */
  cores: number;
  /** CPU per second of video processed: what the camera costs when the machine keeps up (a loaded machine can't). */
  perVideoSecond: number;
  /** Seconds of video processed per second of wall time (1.0 = real time). */
  speed: number;
  frames: number;
  mode: string;
}

async function measure(source: string, seconds: number): Promise<Measured> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-transcode-'));
  const store = await openSqliteStore({ file: storeFileIn(dataDir) });
  const sup = new CameraSupervisor({
    recordings: store.recordings,
    grid: engineGrid(EngineSchema.parse({})),
    camera: CameraSchema.parse({ id: 'bench', source, sampleInterval: 1 }),
    ingest: IngestSchema.parse({}), hls: HlsSchema.parse({}), recording: RecordingSchema.parse({ enabled: false }), dataDir,
    logger: pino({ level: 'silent' }),
  });
  let frames = 0;
  let lastPts = 0;
  sup.on('frame', (f) => {
    frames++;
    lastPts = f.pts;
  });
  sup.start();
  try {
    await sleep(5000); // probe + start-up, not measured
    const [pid, ...more] = ffmpegChildren();
    if (pid === undefined || more.length) throw new Error('expected exactly one ffmpeg');
    const cpu0 = cpuSeconds(pid);
    const f0 = frames;
    const pts0 = lastPts;
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const wall = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(pid) - cpu0;
    const video = lastPts - pts0;
    const snap = sup.snapshot();
    return {
      cores: cpu / wall, perVideoSecond: cpu / video, speed: video / wall, frames: (frames - f0) / wall,
      mode: `${snap.video?.mode ?? '?'} ${snap.video?.codec ?? ''}, decode ${snap.decode}`,
    };
  } finally {
    await sup.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const pct = (cores: number) => `${(cores * 100).toFixed(1)}% of one core`;

export async function run(): Promise<void> {
  const h264 = await measure(makeSource('h264'), MEASURE_S);
  const hevc = await measure(makeSource('hevc'), MEASURE_S);
  console.log(`one 1080p30 camera (GOP 1 s, ~4 Mbps, noise ${NOISE}), live HLS + 1 frame/s sampled, defaults, over ${MEASURE_S} s each:`);
  const line = (name: string, m: Measured) =>
    console.log(`  ${name} (${m.mode}): ${pct(m.perVideoSecond)} per second of video; ${pct(m.cores)} of wall time at ${m.speed.toFixed(2)}x real time, ${m.frames.toFixed(2)} frames/s`);
  line('H.264', h264);
  line('H.265', hevc);
  console.log(`  transcoded / copied (CPU per second of video): ${(hevc.perVideoSecond / h264.perVideoSecond).toFixed(1)}x`);
  console.log(`  per core: ${Math.floor(1 / hevc.perVideoSecond)} transcoded H.265 cameras, ${Math.floor(1 / h264.perVideoSecond)} copied H.264 cameras`);
  if (hevc.speed < 0.95) console.log('  (the machine could not keep the transcode at real time: the per-second-of-video figure is the cost)');
  console.log(`  doctor's estimate (TRANSCODE_CORES_1080P30): ${pct(TRANSCODE_CORES_1080P30)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
