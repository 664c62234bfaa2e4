// Keeping events, their files and the recordings they cite in step, on a real SQLite file and data folder:
// retention (rows first, then files), the startup sweep after an interrupted write, and recording retention
// passing over the segments a stored event keeps.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventsSchema } from '../../config/rule.ts';
import type { RecordedSegment } from '../../pipelines/ingest/recording-index.ts';
import { newEventId, openSqliteStore, storeFileIn, type Store } from '../../pipelines/store/index.ts';
import { evaluation, evidence, newEvent, T0 } from '../support/events.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let dataDir: string;
let store: Store;
beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-events-upkeep-'));
  store = await openSqliteStore({ file: storeFileIn(dataDir), dataDir });
});
afterEach(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const folder = (id: string) => join(dataDir, 'events', id);
const cfg = EventsSchema.parse({ maxAgeDays: 2, evaluationsMaxAgeHours: 6 });

function sql<T>(query: string, ...params: unknown[]): T[] {
  const db = new Database(storeFileIn(dataDir));
  try {
    const st = db.prepare(query);
    return (st.reader ? st.all(...params) : (st.run(...params), [])) as T[];
  } finally {
    db.close();
  }
}

describe('event retention', () => {
  it('deletes closed events older than maxAgeDays with their evaluations and folders, except kept and open ones', async () => {
    const now = T0 + 10 * DAY;
    const old = await store.events.open(newEvent({ startPdt: T0 }));
    await store.events.close(old.id, T0 + 60_000, 'negatives');
    const kept = await store.events.open(newEvent({ startPdt: T0 + 1000 }));
    await store.events.close(kept.id, T0 + 60_000, 'negatives');
    await store.events.review(kept.id, { keep: true });
    const stillOpen = await store.events.open(newEvent({ startPdt: T0 + 2000 }));
    const recent = await store.events.open(newEvent({ startPdt: now - DAY }));
    await store.events.close(recent.id, now - DAY + 1000, 'negatives');
    const result = await store.events.retain(cfg, now);
    expect(result.events).toBe(1);
    expect(await store.events.get(old.id)).toBeNull();
    expect(existsSync(folder(old.id))).toBe(false);
    for (const e of [kept, stillOpen, recent]) {
      expect(await store.events.get(e.id)).not.toBeNull();
      expect(readdirSync(folder(e.id))).toHaveLength(3);
    }
    expect(sql<{ n: number }>('SELECT COUNT(*) AS n FROM evaluations WHERE event_id = ?', old.id)[0]!.n).toBe(0);
  });

  it('deletes evaluations of no event older than evaluationsMaxAgeHours, in batches, and prompts nobody uses', async () => {
    const now = T0 + DAY;
    const e = await store.events.open(newEvent({ startPdt: T0, prompt: 'event prompt', evaluations: [evaluation({ pdt: T0, prompt: 'event prompt' })] }));
    const stale = Array.from({ length: 4500 }, (_, i) => ({ evaluation: evaluation({ pdt: T0 + i, prompt: 'old prompt' }), eventId: null }));
    await store.events.addEvaluations(stale);
    await store.events.addEvaluations([{ evaluation: evaluation({ pdt: now - HOUR, prompt: 'new prompt' }), eventId: null }]);
    const result = await store.events.retain(cfg, now);
    expect(result).toEqual({ events: 0, evaluations: 4500, prompts: 1 });
    expect((await store.events.evaluationsBetween('cam', 0, Infinity)).map((v) => [v.pdt, v.prompt])).toEqual([
      [T0, 'event prompt'],
      [now - HOUR, 'new prompt'],
    ]);
    expect((await store.events.get(e.id))!.evaluations.map((v) => v.prompt)).toEqual(['event prompt']);
  });
});

describe('startup sweep', () => {
  it('removes folders without a row, finishes a committed replacement, drops uncommitted files, reports missing files', async () => {
    const e = await store.events.open(newEvent());
    const bare = await store.events.open(newEvent());
    const gone = await store.events.open(newEvent());
    // Crash between writing a new event's files and its commit: a folder with no row.
    const orphan = newEventId(T0);
    await store.events.files.write(orphan, evidence('orphan'));
    // Crash between the row switching to a new evidence tag and the rename: the committed tag's files wait staged.
    const tag = sql<{ evidence_tag: string }>('SELECT evidence_tag FROM events WHERE id = ?', e.id)[0]!.evidence_tag;
    await store.events.files.stage(e.id, evidence('committed'), tag);
    await store.events.files.stage(e.id, evidence('never-committed'), 'abcdef012345');
    writeFileSync(join(folder(e.id), 'snapshot.jpg.tmp-1a2b3c4d'), 'half a file');
    rmSync(join(folder(bare.id), 'thumbnail.jpg'));
    rmSync(folder(gone.id), { recursive: true });
    mkdirSync(join(dataDir, 'events', 'stray'));
    const result = await store.events.sweep();
    expect(result.removedFolders.sort()).toEqual([orphan, 'stray'].sort());
    expect(result).toMatchObject({ promoted: 3, dropped: 4 });
    expect(result.missingFiles).toEqual(
      expect.arrayContaining([
        { id: bare.id, kinds: ['thumbnail'] },
        { id: gone.id, kinds: ['snapshot', 'annotated', 'thumbnail'] },
      ]),
    );
    expect(result.missingFiles).toHaveLength(2);
    expect(readdirSync(join(dataDir, 'events')).sort()).toEqual([e.id, bare.id].sort());
    expect(readdirSync(folder(e.id)).sort()).toEqual(['annotated.jpg', 'snapshot.jpg', 'thumbnail.jpg']);
    expect(readFileSync(join(folder(e.id), 'snapshot.jpg'), 'latin1')).toContain('snapshot committed');
    expect(await store.events.sweep()).toMatchObject({ removedFolders: [], promoted: 0, dropped: 0 });
  });

  it('leaves alone the folder of an event being written while it runs', async () => {
    const opening = store.events.open(newEvent());
    // Sweep once the folder exists and its files are still being written (before the row commits).
    while (!existsSync(join(dataDir, 'events')) || !readdirSync(join(dataDir, 'events')).length) await new Promise((r) => setImmediate(r));
    const result = await store.events.sweep();
    const e = await opening;
    expect(result.removedFolders).not.toContain(e.id);
    expect(readdirSync(folder(e.id))).toHaveLength(3);
  });
});

describe('recording retention and events', () => {
  const seg = (seq: number, bytes = 100): RecordedSegment => ({ seq, file: `seg-${seq}.ts`, pdt: T0 + seq * 1000, duration: 1, bytes, run: 1 });
  const seqs = (rows: RecordedSegment[]) => rows.map((r) => r.seq);
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it("keeps the segments inside a live event's recording range, by age and by size, until the event goes", async () => {
    await store.recordings.addMany('cam', range(0, 59).map((s) => seg(s)));
    await store.recordings.addMany('gate', range(0, 59).map((s) => seg(s)));
    // Event from 20 s to 30 s with 5 s padding each side: segments 15..35 are kept ([15 s, 35 s] overlaps them).
    const e = await store.events.open(newEvent({ startPdt: T0 + 20_000, ruleOver: { padding: { pre: 5, post: 5 } } }));
    const agedBefore = T0 + 50_000;
    // Open: kept "up to now", so nothing from 15 s on goes by age.
    expect(seqs(await store.recordings.takeExpired('cam', { endedBefore: agedBefore, maxBytes: 1e9 }))).toEqual(range(0, 14));
    await store.events.close(e.id, T0 + 30_000, 'negatives');
    expect(seqs(await store.recordings.takeExpired('cam', { endedBefore: agedBefore, maxBytes: 1e9 }))).toEqual(range(36, 48));
    // The size budget also passes over them: 32 segments of 100 B left (21 kept + 49..59), a 2,600 B budget drops
    // the 6 oldest not kept.
    expect(seqs(await store.recordings.takeExpired('cam', { endedBefore: 0, maxBytes: 2600 }))).toEqual(range(49, 54));
    expect(seqs(await store.recordings.list('cam'))).toEqual([...range(15, 35), ...range(55, 59)]);
    // Kept segments alone over the budget: everything else goes, they stay.
    expect(seqs(await store.recordings.takeExpired('cam', { endedBefore: 0, maxBytes: 1000 }))).toEqual(range(55, 59));
    // Another camera's segments are not protected by this event.
    expect(seqs(await store.recordings.takeExpired('gate', { endedBefore: agedBefore, maxBytes: 1e9 }))).toEqual(range(0, 48));
    await store.events.delete(e.id);
    expect(seqs(await store.recordings.takeExpired('cam', { endedBefore: agedBefore, maxBytes: 1e9 }))).toEqual(range(15, 35));
  });

  it('several events: a long closed one covers its whole range, a short one its own, an open one everything after it', async () => {
    await store.recordings.addMany('cam', range(0, 399).map((s) => seg(s)));
    const pad = { padding: { pre: 0, post: 0 } };
    const long = await store.events.open(newEvent({ startPdt: T0 + 10_000, ruleOver: pad }));
    await store.events.close(long.id, T0 + 200_000, 'max-length'); // [10 s, 200 s]
    const short = await store.events.open(newEvent({ startPdt: T0 + 250_000, ruleOver: pad }));
    await store.events.close(short.id, T0 + 252_000, 'negatives'); // [250 s, 252 s]
    await store.events.open(newEvent({ startPdt: T0 + 300_000, ruleOver: pad })); // [300 s, now]
    const gone = seqs(await store.recordings.takeExpired('cam', { endedBefore: T0 + 1_000_000, maxBytes: 1e9 }));
    // Segment s covers [s, s + 1) s: kept when it overlaps a range (a range ending at its first instant counts).
    expect(gone).toEqual([...range(0, 9), ...range(201, 249), ...range(253, 299)]);
    expect(seqs(await store.recordings.list('cam'))).toEqual([...range(10, 200), ...range(250, 252), ...range(300, 399)]);
  });
});
