// The recording index on a real SQLite file: one row per (camera, seq), time-range listing, and the retention
// budget applied in the database (age first, then the oldest until the camera fits its byte budget).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordedSegment } from '../../pipelines/ingest/recording-index.ts';
import { openSqliteStore, type Store } from '../../pipelines/store/index.ts';

const HOUR = 3600_000;
const MB = 1024 * 1024;
let dir: string;
let store: Store;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-recidx-'));
  store = await openSqliteStore({ file: join(dir, 'vigil.sqlite') });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const seg = (seq: number, pdt: number, bytes = 10, duration = 1): RecordedSegment => ({ seq, file: `seg-${seq}.ts`, pdt, duration, bytes, run: 1 });
const seqs = (rows: RecordedSegment[]) => rows.map((r) => r.seq);

describe('recording index', () => {
  it('keeps the first row of a (camera, seq): a repeated add changes nothing and says so', async () => {
    expect(await store.recordings.add('a', seg(1, 1000, 10))).toBe(true);
    expect(await store.recordings.add('a', seg(1, 9999, 99))).toBe(false);
    expect(await store.recordings.add('b', seg(1, 5000, 10))).toBe(true); // another camera
    expect(await store.recordings.list('a')).toEqual([seg(1, 1000, 10)]);
    expect(await store.recordings.addMany('a', [seg(1, 1, 1), seg(2, 2000), seg(2, 2000)])).toBe(1);
    expect(await store.recordings.lastSeq('a')).toBe(2);
    expect(await store.recordings.lastSeq('nobody')).toBeNull();
  });

  it('lists a camera oldest first, or the segments overlapping a time range', async () => {
    await store.recordings.addMany('a', [seg(3, 3000), seg(1, 1000), seg(2, 2000), seg(4, 4000, 10, 2)]);
    expect(seqs(await store.recordings.list('a'))).toEqual([1, 2, 3, 4]);
    expect(seqs(await store.recordings.list('a', { from: 2500, to: 4000 }))).toEqual([2, 3]);
    expect(seqs(await store.recordings.list('a', { from: 5500 }))).toEqual([4]); // 4000 + 2 s overlaps 5500
    expect(seqs(await store.recordings.list('a', { to: 1001 }))).toEqual([1]);
    expect((await store.recordings.seqs('a')).sort()).toEqual([1, 2, 3, 4]);
  });

  it('age: a segment goes only once it ENDED before the limit', async () => {
    const now = 10 * HOUR;
    await store.recordings.addMany('a', [seg(1, now - 2 * HOUR - 500), seg(2, now - 2 * HOUR - 1500)]);
    expect(seqs(await store.recordings.takeExpired('a', { endedBefore: now - 2 * HOUR, maxBytes: MB }))).toEqual([2]);
    expect(seqs(await store.recordings.list('a'))).toEqual([1]);
  });

  it('size: drops the oldest by time until the rest fits, other cameras untouched', async () => {
    const now = 10 * HOUR;
    await store.recordings.addMany('a', [seg(3, now - 1000, MB), seg(1, now - 3000, MB), seg(2, now - 2000, MB)]);
    await store.recordings.addMany('b', [seg(1, now - 9000, 5 * MB)]);
    expect(seqs(await store.recordings.takeExpired('a', { endedBefore: 0, maxBytes: 2 * MB }))).toEqual([1]);
    expect(seqs(await store.recordings.list('a'))).toEqual([2, 3]);
    expect(seqs(await store.recordings.list('b'))).toEqual([1]);
    // The running total followed the delete: the same budget drops nothing more.
    expect(await store.recordings.takeExpired('a', { endedBefore: 0, maxBytes: 2 * MB })).toEqual([]);
  });

  it('age then size in one transaction, across more rows than one batch', async () => {
    const rows = Array.from({ length: 1200 }, (_, i) => seg(i, i * 1000, 100));
    await store.recordings.addMany('a', rows);
    // Age drops 0..99 (ended by 100 s); 1100 rows x 100 B stay; a 50,000 B budget keeps the newest 500.
    const gone = await store.recordings.takeExpired('a', { endedBefore: 100_000, maxBytes: 50_000 });
    expect(seqs(gone)).toEqual(Array.from({ length: 700 }, (_, i) => i));
    expect(seqs(await store.recordings.list('a'))).toEqual(Array.from({ length: 500 }, (_, i) => 700 + i));
  });

  it('removes given rows and their bytes from the total', async () => {
    await store.recordings.addMany('a', [seg(1, 1000, 60), seg(2, 2000, 60)]);
    await store.recordings.remove('a', [1, 99]);
    expect(seqs(await store.recordings.list('a'))).toEqual([2]);
    expect(await store.recordings.takeExpired('a', { endedBefore: 0, maxBytes: 60 })).toEqual([]);
  });

  it('close waits for the transaction in flight and is idempotent; later calls fail clearly', async () => {
    const adding = store.recordings.addMany('a', Array.from({ length: 2000 }, (_, i) => seg(i, i)));
    const closing = [store.close(), store.close()];
    expect(await adding).toBe(2000);
    await Promise.all(closing);
    await expect(store.recordings.list('a')).rejects.toThrow(/destroyed|not open/);
    store = await openSqliteStore({ file: join(dir, 'vigil.sqlite') });
    expect(await store.recordings.lastSeq('a')).toBe(1999);
  });
});
