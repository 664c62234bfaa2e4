// Recording index cost on the event loop: one camera with a 24 h index (86,400 one-second segments), one minute
// tick = 60 new segments swept into recordings + one prune that drops the 60 that aged out. The store
// (RecordingKeeper over SQLite) against the pre-store JSONL code (kept below, only as the baseline), measured in
// the same run, two ways: performance.eventLoopUtilization() (how long the loop was busy, which on a loaded machine
// includes time the thread waited for a core) and the main thread's own CPU time (/proc/self/task/<pid>/schedstat,
// immune to load). File I/O on the libuv pool counts for neither. Also the start number at a restart: MAX(seq) vs
// re-reading the whole index.
import { appendFile, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RecordingSchema } from '../../config/schema.ts';
import type { RecordedSegment } from '../../pipelines/ingest/recording-index.ts';
import { RecordingKeeper } from '../../pipelines/ingest/retention.ts';
import { parsePlaylist } from '../../pipelines/ingest/hls-playlist.ts';
import { openSqliteStore, storeFileIn } from '../../pipelines/store/index.ts';

const SEGMENTS = 86_400;
const PER_TICK = 60;
const TICKS = Number(process.env.VIGIL_BENCH_STORE_TICKS ?? 7);
const T0 = Date.parse('2026-11-25T00:00:00Z');
const recording = RecordingSchema.parse({ maxAgeHours: 24, maxSizeMB: 1_000_000 });
const SEG_BYTES = 188 * 8;

const segment = (seq: number): RecordedSegment => ({ seq, file: `seg-${seq}.ts`, pdt: T0 + seq * 1000, duration: 1, bytes: SEG_BYTES, run: 1 });

/** The JSONL recording index as it was before the store: append per sweep, read + rewrite whole per prune. */
class JsonlBaseline {
  constructor(private readonly hlsDir: string, private readonly recDir: string) {}

  async sweep(from: number, to: number): Promise<void> {
    const moved: RecordedSegment[] = [];
    for (let seq = from; seq < to; seq++) {
      const name = `seg-${seq}.ts`;
      const bytes = (await stat(join(this.hlsDir, name))).size;
      await rename(join(this.hlsDir, name), join(this.recDir, name));
      moved.push({ ...segment(seq), bytes });
    }
    await appendFile(join(this.recDir, 'index.jsonl'), moved.map((r) => JSON.stringify(r) + '\n').join(''));
  }

  async prune(now: number): Promise<number> {
    const index = await this.read();
    const oldestAllowed = now - recording.maxAgeHours * 3600_000;
    const sorted = index.sort((a, b) => a.pdt - b.pdt);
    const drop: RecordedSegment[] = [];
    let keep = sorted.filter((r) => (r.pdt + r.duration * 1000 < oldestAllowed ? (drop.push(r), false) : true));
    const budget = recording.maxSizeMB * 1024 * 1024;
    let total = keep.reduce((n, r) => n + r.bytes, 0);
    let cut = 0;
    while (total > budget && cut < keep.length) total -= keep[cut++]!.bytes;
    drop.push(...keep.slice(0, cut));
    keep = keep.slice(cut);
    await writeFile(join(this.recDir, 'index.jsonl'), keep.map((r) => JSON.stringify(r) + '\n').join(''));
    await Promise.all(drop.map((r) => rm(join(this.recDir, r.file), { force: true })));
    return drop.length;
  }

  async lastSeq(): Promise<number> {
    return (await this.read()).reduce((m, r) => Math.max(m, r.seq), -1);
  }

  private async read(): Promise<RecordedSegment[]> {
    const out: RecordedSegment[] = [];
    for (const line of (await readFile(join(this.recDir, 'index.jsonl'), 'utf8')).split('\n')) if (line) out.push(JSON.parse(line) as RecordedSegment);
    return out;
  }
}

interface Side {
  name: string;
  hlsDir: string;
  tick(n: number): Promise<void>;
  lastSeq(): Promise<number>;
}

/** A camera folder pair holding a full 24 h of recorded segment files. */
function folders(root: string): { hlsDir: string; recDir: string } {
  const hlsDir = join(root, 'hls', 'cam');
  const recDir = join(root, 'recordings', 'cam');
  mkdirSync(hlsDir, { recursive: true });
  mkdirSync(recDir, { recursive: true });
  const body = Buffer.alloc(SEG_BYTES);
  for (let s = 0; s < SEGMENTS; s++) writeFileSync(join(recDir, `seg-${s}.ts`), body);
  return { hlsDir, recDir };
}

/** Writes the minute's 60 new segments into the live folder (not measured). */
async function newSegments(hlsDir: string, n: number): Promise<[number, number]> {
  const from = SEGMENTS + n * PER_TICK;
  for (let s = from; s < from + PER_TICK; s++) await writeFile(join(hlsDir, `seg-${s}.ts`), Buffer.alloc(SEG_BYTES));
  return [from, from + PER_TICK];
}

/** Just past the end of segment `to - 1` + 24 h: exactly the minute's 60 oldest segments have aged out. */
const nowAt = (to: number) => T0 + to * 1000 + 1;

async function jsonlSide(root: string): Promise<Side> {
  const { hlsDir, recDir } = folders(root);
  await writeFile(join(recDir, 'index.jsonl'), Array.from({ length: SEGMENTS }, (_, s) => JSON.stringify(segment(s)) + '\n').join(''));
  const old = new JsonlBaseline(hlsDir, recDir);
  const name = 'index.jsonl (before)';
  return {
    name,
    hlsDir,
    lastSeq: () => old.lastSeq(),
    async tick(n) {
      const [from, to] = await newSegments(hlsDir, n);
      await measured(name, async () => {
        await old.sweep(from, to);
        if ((await old.prune(nowAt(to))) !== PER_TICK) throw new Error('baseline pruned the wrong number of segments');
      });
    },
  };
}

async function storeSide(root: string): Promise<Side & { close(): Promise<void> }> {
  const { hlsDir, recDir } = folders(root);
  const store = await openSqliteStore({ file: storeFileIn(root) });
  await store.recordings.addMany('cam', Array.from({ length: SEGMENTS }, (_, s) => segment(s)));
  const keeper = new RecordingKeeper({ camera: 'cam', hlsDir, recordingDir: recDir, recording, index: store.recordings });
  await keeper.reconcile();
  const name = 'SQLite store';
  return {
    name,
    hlsDir,
    lastSeq: () => keeper.lastSeq(),
    async tick(n) {
      const [from, to] = await newSegments(hlsDir, n);
      keeper.observe(parsePlaylist(playlist(from, to + 6)), 1, 0);
      await measured(name, async () => {
        if ((await keeper.sweep(to)).length !== PER_TICK) throw new Error('store swept the wrong number of segments');
        if ((await keeper.prune(nowAt(to))).length !== PER_TICK) throw new Error('store pruned the wrong number of segments');
      });
    },
    close: async () => {
      await keeper.close();
      await store.close();
    },
  };
}

function playlist(from: number, to: number): string {
  const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:1', `#EXT-X-MEDIA-SEQUENCE:${from}`];
  for (let s = from; s < to; s++) lines.push('#EXTINF:1.000000,', `#EXT-X-PROGRAM-DATE-TIME:${new Date(T0 + s * 1000).toISOString()}`, `seg-${s}.ts`);
  return lines.join('\n');
}

interface Sample {
  busy: number;
  cpu: number;
}
const samples = new Map<string, Sample[]>();

/** On-CPU ms of the main thread (the event loop) so far. */
function mainThreadCpuMs(): number {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

/** Event-loop busy ms and main-thread CPU ms of `fn`. */
async function measured(name: string, fn: () => Promise<void>): Promise<Sample> {
  const before = performance.eventLoopUtilization();
  const cpu0 = mainThreadCpuMs();
  await fn();
  const sample = { cpu: mainThreadCpuMs() - cpu0, busy: performance.eventLoopUtilization(before).active };
  samples.set(name, [...(samples.get(name) ?? []), sample]);
  return sample;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'vigil-bench-store-'));
  try {
    console.log(`building two 24 h camera folders (${SEGMENTS.toLocaleString()} segments each)...`);
    const old = await jsonlSide(join(root, 'jsonl'));
    const sqlite = await storeSide(join(root, 'sqlite'));
    // Interleaved so both sides see the same machine load; the first tick of each warms up and is left out.
    for (let n = 0; n < TICKS; n++) for (const side of [old, sqlite]) await side.tick(n);
    console.log(`per minute tick (60 segments in, 60 pruned), median of ${TICKS - 1}:`);
    for (const key of ['busy', 'cpu'] as const) {
      const [a, b] = [old, sqlite].map((side) => median(samples.get(side.name)!.slice(1).map((x) => x[key])));
      const what = key === 'busy' ? 'event-loop busy' : 'main-thread CPU';
      console.log(`  ${what}: ${old.name} ${a!.toFixed(1)} ms, ${sqlite.name} ${b!.toFixed(1)} ms, ratio ${(a! / b!).toFixed(1)}x less with the store`);
    }
    const startOld = await measured('start-old', async () => void (await old.lastSeq()));
    const startNew = await measured('start-new', async () => void (await sqlite.lastSeq()));
    console.log(`start number at a restart (main-thread CPU): index.jsonl ${startOld.cpu.toFixed(1)} ms, store ${startNew.cpu.toFixed(2)} ms, ratio ${(startOld.cpu / startNew.cpu).toFixed(0)}x`);
    await sqlite.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
