// The export rows and the event queries the timeline needs, on a real SQLite file: review filters, counts, days in a
// time zone, and an export in progress holding its segments against recording retention.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordedSegment } from '../../pipelines/ingest/recording-index.ts';
import { openSqliteStore, type Store } from '../../pipelines/store/index.ts';
import { newEvent } from '../support/events.ts';

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-exports-'));
  store = await openSqliteStore({ file: join(dir, 'vigil.sqlite') });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const seg = (seq: number, pdt: number): RecordedSegment => ({ seq, file: `seg-${seq}.ts`, pdt, duration: 1, bytes: 10, run: 1 });
const DAY = 86_400_000;
const D0 = Date.parse('2026-11-28T00:00:00Z');

describe('event filters for the timeline', () => {
  async function seed(): Promise<void> {
    // 23:30 UTC on the 28th is the 29th in Berlin (UTC+1); 10:00 UTC on the 29th; two on the 30th, one reviewed.
    const times = [D0 + 23.5 * 3_600_000, D0 + DAY + 10 * 3_600_000, D0 + 2 * DAY + 3_600_000, D0 + 2 * DAY + 2 * 3_600_000];
    const ids: string[] = [];
    for (const t of times) ids.push((await store.events.open(newEvent({ camera: 'a', startPdt: t }))).id);
    await store.events.review(ids[3]!, { reviewed: true, verdict: 'false-positive' });
    await store.events.open(newEvent({ camera: 'b', startPdt: D0 + 2 * DAY }));
  }

  it('filters the list by reviewed and verdict and counts the unreviewed', async () => {
    await seed();
    expect((await store.events.list({ camera: 'a', reviewed: false })).events).toHaveLength(3);
    expect((await store.events.list({ camera: 'a', reviewed: true })).events).toHaveLength(1);
    expect((await store.events.list({ verdict: 'false-positive' })).events).toHaveLength(1);
    expect((await store.events.list({ verdict: 'none' })).events).toHaveLength(4);
    expect(await store.events.counts({})).toEqual({ total: 5, unreviewed: 4 });
    expect(await store.events.counts({ camera: 'a', after: D0 + 2 * DAY })).toEqual({ total: 2, unreviewed: 1 });
    expect(await store.events.counts({ camera: 'nobody' })).toEqual({ total: 0, unreviewed: 0 });
  });

  it('counts days with events in the asked time zone', async () => {
    await seed();
    expect(await store.events.days({ camera: 'a' })).toEqual([
      { day: '2026-11-28', count: 1, unreviewed: 1 },
      { day: '2026-11-29', count: 1, unreviewed: 1 },
      { day: '2026-11-30', count: 2, unreviewed: 1 },
    ]);
    expect(await store.events.days({ camera: 'a' }, 'Europe/Berlin')).toEqual([
      { day: '2026-11-29', count: 2, unreviewed: 2 },
      { day: '2026-11-30', count: 2, unreviewed: 1 },
    ]);
    // India is UTC+5:30: 23:30 UTC on the 28th is 05:00 on the 29th, and 01:00 UTC the 30th is 06:30 the 30th.
    expect((await store.events.days({ camera: 'a' }, 'Asia/Kolkata')).map((d) => d.day)).toEqual(['2026-11-29', '2026-11-30']);
    expect(await store.events.days({ after: D0 + 2 * DAY })).toEqual([{ day: '2026-11-30', count: 3, unreviewed: 2 }]);
    await expect(store.events.days({}, 'Mars/Olympus')).rejects.toThrow(RangeError);
  });
});

describe('exports', () => {
  it('a queued or running export holds its segments against retention; once done they go', async () => {
    await store.recordings.addMany('a', [seg(1, 1000), seg(2, 2000), seg(3, 3000), seg(4, 4000)]);
    const e = await store.exports.create({ camera: 'a', from: 3000, to: 4500, burnBoxes: false, author: 't' });
    await store.recordings.addMany('b', [seg(1, 1000)]);
    // Everything is past the budget: only what comes before the export's start goes; another camera is not held.
    expect((await store.recordings.takeExpired('a', { endedBefore: 1e12, maxBytes: 0 })).map((s) => s.seq)).toEqual([1, 2]);
    expect((await store.recordings.takeExpired('b', { endedBefore: 1e12, maxBytes: 0 })).map((s) => s.seq)).toEqual([1]);
    await store.exports.running(e.id);
    expect(await store.recordings.takeExpired('a', { endedBefore: 1e12, maxBytes: 0 })).toEqual([]);
    await store.exports.done(e.id, { bytes: 10, duration: 1.5 });
    expect((await store.recordings.takeExpired('a', { endedBefore: 1e12, maxBytes: 0 })).map((s) => s.seq)).toEqual([3, 4]);
  });

  it('keeps rows until deleted (row, then file); a restart fails the exports it interrupted and removes their partial files', async () => {
    const done = await store.exports.create({ camera: 'a', from: 0, to: 1000, burnBoxes: true, author: 'alice' });
    mkdirSync(store.exports.dir, { recursive: true });
    writeFileSync(store.exports.filePath(done.id), 'mp4');
    await store.exports.running(done.id);
    await store.exports.progress(done.id, 0.5);
    expect((await store.exports.get(done.id))?.progress).toBe(0.5);
    await store.exports.done(done.id, { bytes: 3, duration: 1 });
    const cut = await store.exports.create({ camera: 'a', from: 0, to: 1000, burnBoxes: false, author: 'alice' });
    await store.exports.running(cut.id);
    writeFileSync(store.exports.filePath(cut.id), 'half');
    expect(await store.exports.failInterrupted()).toEqual([cut.id]);
    expect(await store.exports.get(cut.id)).toMatchObject({ state: 'failed', error: expect.stringContaining('start it again') });
    expect(existsSync(store.exports.filePath(cut.id))).toBe(false);
    expect(await store.exports.get(done.id)).toMatchObject({ state: 'done', progress: 1, bytes: 3, duration: 1, burnBoxes: true, author: 'alice' });
    expect((await store.exports.list()).map((x) => x.id).sort()).toEqual([done.id, cut.id].sort());
    expect(await store.exports.delete(done.id)).toBe(true);
    expect(existsSync(store.exports.filePath(done.id))).toBe(false);
    expect(await store.exports.get(done.id)).toBeNull();
    expect(await store.exports.delete(done.id)).toBe(false);
  });

  it('sweeps files of no export (a crash between a row and its file) and leftovers, keeping every row\'s file', async () => {
    const kept = await store.exports.create({ camera: 'a', from: 0, to: 1000, burnBoxes: false, author: 't' });
    mkdirSync(store.exports.dir, { recursive: true });
    for (const name of [`${kept.id}.mp4`, `${kept.id}.mp4.part`, `${kept.id}.mp4.txt`, 'GONE.mp4']) writeFileSync(join(store.exports.dir, name), 'x');
    expect((await store.exports.sweep()).sort()).toEqual([`${kept.id}.mp4.part`, `${kept.id}.mp4.txt`, 'GONE.mp4'].sort());
    expect(existsSync(store.exports.filePath(kept.id))).toBe(true);
  });
});
