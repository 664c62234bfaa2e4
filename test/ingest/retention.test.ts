import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordingSchema } from '../../config/schema.ts';
import { parsePlaylist } from '../../pipelines/ingest/hls-playlist.ts';
import { cameraHlsDir, cameraRecordingDir } from '../../pipelines/ingest/paths.ts';
import { readRecordingIndex, RecordingKeeper, selectPrunable, type RecordedSegment } from '../../pipelines/ingest/retention.ts';

let dataDir: string;
let hlsDir: string;
let recDir: string;
const HOUR = 3600_000;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'vigil-retention-'));
  hlsDir = cameraHlsDir(dataDir, 'cam');
  recDir = cameraRecordingDir(dataDir, 'cam');
  await mkdir(hlsDir, { recursive: true });
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

function playlist(from: number, to: number, t0: number): string {
  const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:1', `#EXT-X-MEDIA-SEQUENCE:${from}`];
  for (let s = from; s <= to; s++) lines.push('#EXTINF:1.000000,', `#EXT-X-PROGRAM-DATE-TIME:${new Date(t0 + (s - from) * 1000).toISOString()}`, `seg-${s}.ts`);
  return lines.join('\n');
}

const seg = (seq: number, pdt: number, bytes: number): RecordedSegment => ({ seq, file: `seg-${seq}.ts`, pdt, duration: 1, bytes, run: 1 });

describe('RecordingKeeper', () => {
  it('moves segments that left the live window into recordings with their PDT', async () => {
    const t0 = Date.parse('2026-11-25T10:00:00Z');
    for (let s = 0; s < 6; s++) await writeFile(join(hlsDir, `seg-${s}.ts`), Buffer.alloc(100 + s));
    const keeper = new RecordingKeeper({ hlsDir, recordingDir: recDir, recording: RecordingSchema.parse({}) });
    keeper.observe(parsePlaylist(playlist(0, 5, t0)), 3, 0);
    const moved = await keeper.sweep(4); // the live playlist now starts at 4
    expect(moved.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
    expect((await readdir(hlsDir)).sort()).toEqual(['seg-4.ts', 'seg-5.ts']);
    const index = await readRecordingIndex(recDir);
    expect(index.map((r) => [r.seq, r.pdt - t0, r.bytes, r.run])).toEqual([[0, 0, 100, 3], [1, 1000, 101, 3], [2, 2000, 102, 3], [3, 3000, 103, 3]]);
    expect((await readdir(recDir)).filter((f) => f.endsWith('.ts')).sort()).toEqual(['seg-0.ts', 'seg-1.ts', 'seg-2.ts', 'seg-3.ts']);
    expect(await keeper.lastSeq()).toBe(5);
  });

  it('deletes instead when recording is disabled, and segments of unknown time', async () => {
    await writeFile(join(hlsDir, 'seg-0.ts'), 'x');
    await writeFile(join(hlsDir, 'seg-9.ts'), 'x');
    const off = new RecordingKeeper({ hlsDir, recordingDir: recDir, recording: RecordingSchema.parse({ enabled: false }) });
    off.observe(parsePlaylist(playlist(0, 0, Date.now())), 1, 0);
    expect(await off.sweep(Infinity)).toEqual([]);
    expect(await readdir(hlsDir)).toEqual([]);
    expect(await readRecordingIndex(recDir)).toEqual([]);
  });

  it('prunes by age and by size, oldest first, files and index together', async () => {
    const now = Date.parse('2026-11-25T12:00:00Z');
    await mkdir(recDir, { recursive: true });
    const entries = [seg(1, now - 5 * HOUR, 400_000), seg(2, now - 3 * HOUR, 400_000), seg(3, now - 2 * HOUR, 400_000), seg(4, now - HOUR, 400_000)];
    for (const e of entries) await writeFile(join(recDir, e.file), 'x');
    await writeFile(join(recDir, 'index.jsonl'), entries.map((e) => JSON.stringify(e) + '\n').join(''));
    // 4 h age limit drops #1; 1 MB budget (1,048,576 B) then keeps only the newest two of the remaining three.
    const keeper = new RecordingKeeper({ hlsDir, recordingDir: recDir, recording: RecordingSchema.parse({ maxAgeHours: 4, maxSizeMB: 1 }) });
    const gone = await keeper.prune(now);
    expect(gone.map((r) => r.seq).sort()).toEqual([1, 2]);
    expect((await readRecordingIndex(recDir)).map((r) => r.seq)).toEqual([3, 4]);
    expect((await readdir(recDir)).sort()).toEqual(['index.jsonl', 'seg-3.ts', 'seg-4.ts']);
  });
});

describe('selectPrunable', () => {
  const now = 10 * HOUR;
  it('keeps everything inside both budgets', () => {
    const idx = [seg(1, now - HOUR, 10), seg(2, now - 1000, 10)];
    expect(selectPrunable(idx, { maxAgeHours: 2, maxSizeMB: 1 }, now).drop).toEqual([]);
  });
  it('age: a segment is dropped only once it ENDED before the limit', () => {
    const idx = [seg(1, now - 2 * HOUR - 500, 10), seg(2, now - 2 * HOUR - 1500, 10)];
    expect(selectPrunable(idx, { maxAgeHours: 2, maxSizeMB: 1 }, now).drop.map((r) => r.seq)).toEqual([2]);
  });
  it('size: drops the oldest until the rest fits', () => {
    const mb = 1024 * 1024;
    const idx = [seg(3, now - 1000, mb), seg(1, now - 3000, mb), seg(2, now - 2000, mb)];
    const r = selectPrunable(idx, { maxAgeHours: 24, maxSizeMB: 2 }, now);
    expect(r.drop.map((x) => x.seq)).toEqual([1]);
    expect(r.keep.map((x) => x.seq)).toEqual([2, 3]);
  });
});
