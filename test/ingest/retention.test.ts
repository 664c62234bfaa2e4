// RecordingKeeper against real files and a real SQLite store: moving segments with their rows, pruning rows then
// files, serialized sweeps, the start number from the store, the one-time import of index.jsonl, reconciliation.
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RecordingSchema } from '../../config/schema.ts';
import { parsePlaylist } from '../../pipelines/ingest/hls-playlist.ts';
import { LEGACY_INDEX_IMPORTED } from '../../pipelines/ingest/legacy-index.ts';
import { cameraHlsDir, cameraRecordingDir } from '../../pipelines/ingest/paths.ts';
import type { RecordedSegment } from '../../pipelines/ingest/recording-index.ts';
import { RecordingKeeper, type RetentionOptions } from '../../pipelines/ingest/retention.ts';
import { openSqliteStore, storeFileIn, type Store } from '../../pipelines/store/index.ts';

let dataDir: string;
let hlsDir: string;
let recDir: string;
let store: Store;
const HOUR = 3600_000;
const T0 = Date.parse('2026-11-25T10:00:00Z');

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'vigil-retention-'));
  hlsDir = cameraHlsDir(dataDir, 'cam');
  recDir = cameraRecordingDir(dataDir, 'cam');
  await mkdir(hlsDir, { recursive: true });
  store = await openSqliteStore({ file: storeFileIn(dataDir) });
});
afterEach(async () => {
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
});

function keeper(recording: z.input<typeof RecordingSchema> = {}, logs: string[] = [], onStep?: RetentionOptions['onStep']): RecordingKeeper {
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  return new RecordingKeeper({ camera: 'cam', hlsDir, recordingDir: recDir, recording: RecordingSchema.parse(recording), index: store.recordings, logger, onStep });
}

function playlist(from: number, to: number, t0 = T0): string {
  const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:1', `#EXT-X-MEDIA-SEQUENCE:${from}`];
  for (let s = from; s <= to; s++) lines.push('#EXTINF:1.000000,', `#EXT-X-PROGRAM-DATE-TIME:${new Date(t0 + (s - from) * 1000).toISOString()}`, `seg-${s}.ts`);
  return lines.join('\n');
}

async function writeSegments(from: number, to: number): Promise<void> {
  for (let s = from; s <= to; s++) await writeFile(join(hlsDir, `seg-${s}.ts`), Buffer.alloc(100 + s));
}

const segFiles = async (dir: string) => (await readdir(dir)).filter((f) => f.startsWith('seg-')).sort((a, b) => parseInt(a.slice(4)) - parseInt(b.slice(4)));
const seg = (seq: number, pdt: number, bytes: number): RecordedSegment => ({ seq, file: `seg-${seq}.ts`, pdt, duration: 1, bytes, run: 1 });

describe('RecordingKeeper', () => {
  it('moves segments that left the live window into recordings, each with its row', async () => {
    await writeSegments(0, 5);
    const k = keeper();
    k.observe(parsePlaylist(playlist(0, 5)), 3, 0);
    const moved = await k.sweep(4); // the live playlist now starts at 4
    expect(moved.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
    expect(await segFiles(hlsDir)).toEqual(['seg-4.ts', 'seg-5.ts']);
    const index = await store.recordings.list('cam');
    expect(index.map((r) => [r.seq, r.pdt - T0, r.bytes, r.run])).toEqual([[0, 0, 100, 3], [1, 1000, 101, 3], [2, 2000, 102, 3], [3, 3000, 103, 3]]);
    expect(await segFiles(recDir)).toEqual(['seg-0.ts', 'seg-1.ts', 'seg-2.ts', 'seg-3.ts']);
    expect(await k.lastSeq()).toBe(5);
  });

  it('deletes instead when recording is disabled, and segments of unknown time', async () => {
    await writeFile(join(hlsDir, 'seg-0.ts'), 'x');
    await writeFile(join(hlsDir, 'seg-9.ts'), 'x');
    const off = keeper({ enabled: false });
    off.observe(parsePlaylist(playlist(0, 0)), 1, 0);
    expect(await off.sweep(Infinity)).toEqual([]);
    expect(await readdir(hlsDir)).toEqual([]);
    expect(await store.recordings.list('cam')).toEqual([]);
  });

  it('prunes by age and by size, oldest first: rows and files together', async () => {
    const now = Date.parse('2026-11-25T12:00:00Z');
    await mkdir(recDir, { recursive: true });
    const entries = [seg(1, now - 5 * HOUR, 400_000), seg(2, now - 3 * HOUR, 400_000), seg(3, now - 2 * HOUR, 400_000), seg(4, now - HOUR, 400_000)];
    for (const e of entries) await writeFile(join(recDir, e.file), 'x');
    await store.recordings.addMany('cam', entries);
    // 4 h age limit drops #1; 1 MB budget (1,048,576 B) then keeps only the newest two of the remaining three.
    const gone = await keeper({ maxAgeHours: 4, maxSizeMB: 1 }).prune(now);
    expect(gone.map((r) => r.seq)).toEqual([1, 2]);
    expect((await store.recordings.list('cam')).map((r) => r.seq)).toEqual([3, 4]);
    expect(await segFiles(recDir)).toEqual(['seg-3.ts', 'seg-4.ts']);
  });

  it('the start number comes from the store and the HLS folder, without reading any index file', async () => {
    await store.recordings.addMany('cam', [seg(40, T0, 1), seg(41, T0 + 1000, 1)]);
    await mkdir(recDir, { recursive: true });
    await writeFile(join(recDir, 'seg-40.ts'), 'x');
    await writeFile(join(recDir, 'seg-41.ts'), 'x');
    expect(await keeper().lastSeq()).toBe(41);
    await writeSegments(42, 43);
    expect(await keeper().lastSeq()).toBe(43);
  });

  it('the sweep at a run start waits for the previous run\'s tick in progress: each segment once, no error', async () => {
    await writeSegments(0, 29);
    const logs: string[] = [];
    let paused!: () => void;
    let resume!: () => void;
    const atPause = new Promise<void>((r) => (paused = r));
    const gate = new Promise<void>((r) => (resume = r));
    const k = keeper({}, logs, async (step, seq) => {
      if (step !== 'row-added' || seq !== 5) return;
      paused();
      await gate;
    });
    k.observe(parsePlaylist(playlist(0, 29)), 1, 0);
    // The old run's tick (keep from 20) is half-way when ffmpeg exits and the new run's start sweeps everything.
    const tick = k.sweep(20);
    await atPause;
    const start = k.sweep(Infinity);
    const prune = k.prune(T0);
    await new Promise((r) => setTimeout(r, 200));
    expect(await segFiles(hlsDir)).toEqual(Array.from({ length: 25 }, (_, i) => `seg-${5 + i}.ts`)); // nobody else touched them
    resume();
    expect((await tick).map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect((await start).map((r) => r.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 20 + i));
    expect(await prune).toEqual([]);
    expect((await store.recordings.list('cam')).map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(await segFiles(recDir)).toHaveLength(30);
    expect(await readdir(hlsDir)).toEqual([]);
    expect(logs.filter((l) => l.includes('"level":40'))).toEqual([]); // no sweep tripped over the other's files
  });

  it('a move that fails keeps the segment in the HLS folder and its row; the next sweep finishes it', async () => {
    await writeSegments(0, 1);
    const k = keeper();
    k.observe(parsePlaylist(playlist(0, 1)), 1, 0);
    await k.reconcile();
    await mkdir(join(recDir, 'seg-0.ts'), { recursive: true }); // a folder in the way: this one rename fails (EISDIR)
    expect((await k.sweep(Infinity)).map((r) => r.seq)).toEqual([1]);
    expect(await segFiles(hlsDir)).toEqual(['seg-0.ts']);
    expect((await store.recordings.list('cam')).map((r) => r.seq)).toEqual([0, 1]);
    await rm(join(recDir, 'seg-0.ts'), { recursive: true });
    expect((await k.sweep(Infinity)).map((r) => r.seq)).toEqual([0]);
    expect((await store.recordings.list('cam')).map((r) => r.seq)).toEqual([0, 1]);
    expect(await segFiles(recDir)).toEqual(['seg-0.ts', 'seg-1.ts']);
    expect(await readdir(hlsDir)).toEqual([]);
  });

  it('close lets the sweep in progress finish and refuses later work', async () => {
    await writeSegments(0, 9);
    const k = keeper();
    k.observe(parsePlaylist(playlist(0, 9)), 1, 0);
    const sweeping = k.sweep(Infinity);
    await k.close();
    expect((await sweeping).map((r) => r.seq)).toHaveLength(10);
    await expect(k.sweep(Infinity)).rejects.toThrow(/closed/);
  });
});

describe('reconciliation at the first operation', () => {
  it('removes files without rows and rows without files, and finishes moves a crash interrupted', async () => {
    await mkdir(recDir, { recursive: true });
    await store.recordings.addMany('cam', [seg(5, T0, 1), seg(6, T0 + 1000, 1), seg(7, T0 + 2000, 1)]);
    await writeFile(join(recDir, 'seg-3.ts'), 'pruned row, file left'); // orphan
    await writeFile(join(recDir, '.seg-6.ts.partial'), 'half a copy'); // interrupted cross-mount copy
    await writeFile(join(recDir, 'seg-5.ts'), 'x');
    await writeFile(join(hlsDir, 'seg-6.ts'), 'y'); // row committed, move not done
    // seg-7: row, but the file exists nowhere
    const r = await keeper().reconcile();
    expect(r).toEqual({ imported: 0, finished: 1, orphans: 1, lost: 1 });
    expect(await readdir(recDir)).toEqual(['seg-5.ts', 'seg-6.ts']);
    expect(await readFile(join(recDir, 'seg-6.ts'), 'utf8')).toBe('y');
    expect((await store.recordings.list('cam')).map((x) => x.seq)).toEqual([5, 6]);
  });
});

describe('recordings folder on a share that is not mounted', () => {
  it('changes nothing: the start number still comes from the index, sweeps wait, and catch up when it is back', async () => {
    await mkdir(recDir, { recursive: true });
    await store.recordings.addMany('cam', [seg(0, T0, 1), seg(1, T0 + 1000, 1), seg(2, T0 + 2000, 1)]);
    for (const s of [0, 1, 2]) await writeFile(join(recDir, `seg-${s}.ts`), 'x');
    await rename(recDir, `${recDir}.away`); // the share is gone (the mount point is missing)
    const k = keeper();
    expect(await k.lastSeq()).toBe(2); // live video can start with the right numbers
    await writeSegments(3, 4);
    k.observe(parsePlaylist(playlist(3, 4, T0 + 3000)), 2, 3);
    await expect(k.sweep(Infinity)).rejects.toThrow(/none of the 3 indexed recordings.*is the recordings share mounted/);
    await mkdir(recDir); // an empty mount point: same answer, nothing removed
    await expect(k.sweep(Infinity)).rejects.toThrow(/share mounted/);
    expect((await store.recordings.list('cam')).map((r) => r.seq)).toEqual([0, 1, 2]);
    expect(await segFiles(hlsDir)).toEqual(['seg-3.ts', 'seg-4.ts']);
    await rm(recDir, { recursive: true });
    await rename(`${recDir}.away`, recDir); // mounted again
    expect((await k.sweep(Infinity)).map((r) => r.seq)).toEqual([3, 4]);
    expect((await store.recordings.list('cam')).map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(await segFiles(recDir)).toEqual(['seg-0.ts', 'seg-1.ts', 'seg-2.ts', 'seg-3.ts', 'seg-4.ts']);
  });
});

describe('index.jsonl from before the store', () => {
  it('is imported once at first start without losing a line, then renamed aside', async () => {
    await mkdir(recDir, { recursive: true });
    const lines: RecordedSegment[] = Array.from({ length: 5000 }, (_, i) => ({ ...seg(i, T0 + i * 2000, 1000 + i), duration: 2, run: 1 + Math.floor(i / 1000) }));
    for (const l of lines) await writeFile(join(recDir, l.file), Buffer.alloc(l.bytes));
    // The old code could append a sweep twice (the run-start race) and leave a torn last line after a crash.
    const text = lines.map((l) => JSON.stringify(l)).join('\n') + '\n' + JSON.stringify(lines[7]) + '\n{"seq":5000,"file":"seg-50';
    await writeFile(join(recDir, 'index.jsonl'), text);
    const k = keeper();
    expect(await k.reconcile()).toEqual({ imported: 5000, finished: 0, orphans: 0, lost: 0 });
    expect(await store.recordings.list('cam')).toEqual(lines);
    expect((await readdir(recDir)).filter((f) => !f.startsWith('seg-'))).toEqual([LEGACY_INDEX_IMPORTED]);
    expect(await readFile(join(recDir, LEGACY_INDEX_IMPORTED), 'utf8')).toBe(text);
    expect(await k.lastSeq()).toBe(4999);
    // A later start finds nothing to import.
    expect(await keeper().reconcile()).toEqual({ imported: 0, finished: 0, orphans: 0, lost: 0 });
  });

  it('a crash after the import committed and before the rename imports again without doubling a row', async () => {
    await mkdir(recDir, { recursive: true });
    const lines = [seg(1, T0, 10), seg(2, T0 + 1000, 20)];
    for (const l of lines) await writeFile(join(recDir, l.file), 'x');
    await store.recordings.addMany('cam', lines); // the first import's transaction
    await writeFile(join(recDir, 'index.jsonl'), lines.map((l) => JSON.stringify(l) + '\n').join(''));
    expect(await keeper().reconcile()).toMatchObject({ imported: 0 });
    expect(await store.recordings.list('cam')).toEqual(lines);
    const [one] = await store.recordings.takeExpired('cam', { endedBefore: 0, maxBytes: 20 });
    expect(one?.seq).toBe(1); // the per-camera total counted each row once (30 bytes, not 60)
  });
});
