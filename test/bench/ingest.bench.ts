// Ingest CPU per camera: one 1080p30 H.264 camera (GOP 1 s, noisy testsrc2 at ~4 Mbps, a file played in real time
// like a live feed) sampled at 1 frame/s, keyframe-only vs full decode, measured in the same run from the ffmpeg
// child's utime+stime (/proc/<pid>/stat). Then how many such cameras 2 cores could ingest, checked by running N at once.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { CameraSchema, EngineSchema, HlsSchema, IngestSchema, RecordingSchema } from '../../config/schema.ts';
import { engineGrid } from '../../pipelines/engine/create.ts';
import { CameraSupervisor } from '../../pipelines/ingest/supervisor.ts';
import { openSqliteStore, storeFileIn } from '../../pipelines/store/index.ts';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const MEASURE_S = Number(process.env.VIGIL_BENCH_INGEST_SECONDS ?? 20);
const SOURCE = join(tmpdir(), 'vigil-bench-1080p30-gop30-4M.mp4');

function makeSource(): void {
  if (existsSync(SOURCE)) return;
  console.log('generating 12 s of 1080p30 H.264 (noisy testsrc2, GOP 30, ~4 Mbps)...');
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30:duration=12',
    '-vf', 'noise=alls=12:allf=t,format=yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '4M', '-maxrate', '4M', '-bufsize', '8M',
    '-g', '30', '-keyint_min', '30', '-sc_threshold', '0', '-bf', '0', SOURCE], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('could not generate the bench source');
}

function ffmpegChildren(): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,comm='], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim().split(/\s+/)).filter((p) => Number(p[1]) === process.pid && p[2] === 'ffmpeg').map((p) => Number(p[0]));
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14, 15)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Measured {
  cores: number;
  frames: number;
  seconds: number;
}

/** Runs `n` cameras in `decode` mode; returns CPU (in cores) per camera and frames per camera per second. */
async function measure(decode: 'keyframes' | 'all', n: number, seconds: number): Promise<Measured> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-ingest-'));
  const logger = pino({ level: 'silent' });
  const store = await openSqliteStore({ file: storeFileIn(dataDir) });
  const sups = Array.from({ length: n }, (_, i) => new CameraSupervisor({
    camera: CameraSchema.parse({ id: `b${i}`, source: SOURCE, sampleInterval: 1, decode }),
    ingest: IngestSchema.parse({}), hls: HlsSchema.parse({}), recording: RecordingSchema.parse({ enabled: false }), dataDir, logger,
    recordings: store.recordings,
    grid: engineGrid(EngineSchema.parse({})),
  }));
  let frames = 0;
  for (const s of sups) s.on('frame', () => frames++);
  sups.forEach((s) => s.start());
  try {
    await sleep(4000 + n * 300); // probe + start-up, not measured
    const pids = ffmpegChildren();
    if (pids.length !== n) throw new Error(`expected ${n} ffmpeg, found ${pids.length}`);
    for (const s of sups) if (s.snapshot().decode !== decode) throw new Error(`camera runs in ${s.snapshot().decode} mode`);
    const cpu0 = pids.map(cpuSeconds);
    const f0 = frames;
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const wall = (performance.now() - t0) / 1000;
    const used = pids.reduce((sum, pid, i) => sum + cpuSeconds(pid) - cpu0[i]!, 0);
    return { cores: used / wall / n, frames: (frames - f0) / wall / n, seconds: wall };
  } finally {
    await Promise.all(sups.map((s) => s.close()));
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const pct = (cores: number) => `${(cores * 100).toFixed(1)}% of one core`;

export async function run(): Promise<void> {
  makeSource();
  const key = await measure('keyframes', 1, MEASURE_S);
  const all = await measure('all', 1, MEASURE_S);
  console.log(`one 1080p30 H.264 camera (GOP 1 s, ~4 Mbps), HLS copy + 1 frame/s sampled and scaled to the model grid, over ${MEASURE_S} s:`);
  console.log(`  keyframe-only decode: ${pct(key.cores)}  (${key.frames.toFixed(2)} frames/s)   target <= 3%`);
  console.log(`  full decode:          ${pct(all.cores)}  (${all.frames.toFixed(2)} frames/s)   target ~9%`);
  console.log(`  full / keyframes:     ${(all.cores / key.cores).toFixed(1)}x`);
  const capacity = Math.floor(2 / key.cores);
  console.log(`  2 cores / per-camera cost: ${capacity} cameras in keyframe mode, ${Math.floor(2 / all.cores)} in full decode`);
  // Verify briefly with N cameras at once (capped: the bench machine is shared and each camera also reads a file).
  const n = Math.max(2, Math.min(16, Math.floor(capacity / 4)));
  const many = await measure('keyframes', n, 10);
  console.log(`  ${n} keyframe cameras at once: ${pct(many.cores)} each, ${pct(many.cores * n)} in all, ${many.frames.toFixed(2)} frames/s each` +
    ` -> extrapolated ${Math.floor(2 / many.cores)} cameras on 2 cores`);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
