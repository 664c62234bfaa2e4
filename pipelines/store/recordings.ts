// The recording index over any Kysely database (SQLite today, PostgreSQL later): rows of `recordings` plus the
// per-camera totals that the size budget reads, changed together in one transaction every time. Retention keeps
// the segments inside a stored event's recording range (the events table is in the same database).
import type { ExpressionBuilder, Kysely, Transaction } from 'kysely';
import type { RecordedSegment, RecordingIndex, RetentionBudget } from '../ingest/recording-index.ts';
import type { RecordingsTable, StoreSchema } from './schema.ts';

/** Rows per statement: 7 parameters each stays far below SQLite's and PostgreSQL's parameter limits. */
const CHUNK = 500;
/** No segment lasts longer; lets a time-range query use the (camera, pdt) index. */
const MAX_SEGMENT_MS = 10 * 60_000;

type Db = Kysely<StoreSchema> | Transaction<StoreSchema>;

export class KyselyRecordingIndex implements RecordingIndex {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  add(camera: string, segment: RecordedSegment): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => (await insertNew(trx, camera, [segment])) === 1);
  }

  addMany(camera: string, segments: readonly RecordedSegment[]): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      let added = 0;
      for (let i = 0; i < segments.length; i += CHUNK) added += await insertNew(trx, camera, segments.slice(i, i + CHUNK));
      return added;
    });
  }

  async list(camera: string, range: { from?: number; to?: number } = {}): Promise<RecordedSegment[]> {
    let q = this.db.selectFrom('recordings').selectAll().where('camera', '=', camera);
    if (range.from !== undefined) {
      const from = range.from;
      q = q.where('pdt', '>', from - MAX_SEGMENT_MS).where((eb) => eb(eb('pdt', '+', eb('duration', '*', 1000)), '>', from));
    }
    if (range.to !== undefined) q = q.where('pdt', '<', range.to);
    return (await q.orderBy('pdt').orderBy('seq').execute()).map(toSegment);
  }

  async seqs(camera: string): Promise<number[]> {
    const rows = await this.db.selectFrom('recordings').select('seq').where('camera', '=', camera).execute();
    return rows.map((r) => Number(r.seq));
  }

  async lastSeq(camera: string): Promise<number | null> {
    const row = await this.db.selectFrom('recordings').select((eb) => eb.fn.max('seq').as('last')).where('camera', '=', camera).executeTakeFirst();
    return row?.last === null || row?.last === undefined ? null : Number(row.last);
  }

  takeExpired(camera: string, budget: RetentionBudget): Promise<RecordedSegment[]> {
    return this.db.transaction().execute(async (trx) => {
      const notKept = notKeptByAnEvent(await keptRanges(trx, camera));
      const aged = await trx
        .deleteFrom('recordings')
        .where('camera', '=', camera)
        .where('pdt', '<', budget.endedBefore)
        .where((eb) => eb(eb('pdt', '+', eb('duration', '*', 1000)), '<', budget.endedBefore))
        .where(notKept)
        .returningAll()
        .execute();
      const total = (await totalBytes(trx, camera)) - sum(aged);
      const over = total > budget.maxBytes ? await deleteOldest(trx, camera, total - budget.maxBytes, notKept) : [];
      const gone = [...aged, ...over];
      if (gone.length) await bumpTotals(trx, camera, -gone.length, -sum(gone));
      return gone.map(toSegment).sort((a, b) => a.pdt - b.pdt || a.seq - b.seq);
    });
  }

  async remove(camera: string, seqs: readonly number[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < seqs.length; i += CHUNK) {
        const gone = await trx.deleteFrom('recordings').where('camera', '=', camera).where('seq', 'in', seqs.slice(i, i + CHUNK)).returning('bytes').execute();
        if (gone.length) await bumpTotals(trx, camera, -gone.length, -sum(gone));
      }
    });
  }
}

/** Inserts the rows the camera does not have yet (existing ones are kept) and counts them into the totals. */
async function insertNew(trx: Transaction<StoreSchema>, camera: string, segments: readonly RecordedSegment[]): Promise<number> {
  if (!segments.length) return 0;
  const added = await trx
    .insertInto('recordings')
    .values(segments.map((s) => ({ camera, seq: s.seq, file: s.file, pdt: s.pdt, duration: s.duration, bytes: s.bytes, run: s.run })))
    .onConflict((oc) => oc.columns(['camera', 'seq']).doNothing())
    .returning('bytes')
    .execute();
  if (added.length) await bumpTotals(trx, camera, added.length, sum(added));
  return added.length;
}

/** Deletes the oldest rows until at least `excess` bytes are gone; returns them. */
async function deleteOldest(trx: Transaction<StoreSchema>, camera: string, excess: number, notKept: ReturnType<typeof notKeptByAnEvent>): Promise<RecordingsTable[]> {
  const gone: RecordingsTable[] = [];
  let freed = 0;
  while (freed < excess) {
    const batch = await trx.selectFrom('recordings').selectAll().where('camera', '=', camera).where(notKept).orderBy('pdt').orderBy('seq').limit(CHUNK).execute();
    const take: RecordingsTable[] = [];
    for (const r of batch) {
      if (freed >= excess) break;
      take.push(r);
      freed += Number(r.bytes);
    }
    if (!take.length) break;
    await trx.deleteFrom('recordings').where('camera', '=', camera).where('seq', 'in', take.map((r) => r.seq)).execute();
    gone.push(...take);
  }
  return gone;
}

/** What keeps a camera's segments: its open events from the earliest start on, its closed events' ranges. */
interface KeptRanges {
  /** Earliest rec_from of an open event or start of an export in progress (everything after it is kept); null: none. */
  openFrom: number | null;
  /** Longest closed range (ms), bounding how far before a segment a range covering it can start. */
  span: number;
}

async function keptRanges(db: Db, camera: string): Promise<KeptRanges> {
  const row = await db
    .selectFrom('events')
    .select((eb) => [
      eb.fn.min(eb.case().when('rec_to', 'is', null).then(eb.ref('rec_from')).end()).as('openFrom'),
      eb.fn.max(eb('rec_to', '-', eb.ref('rec_from'))).as('span'),
    ])
    .where('camera', '=', camera)
    .executeTakeFirst();
  // An export being cut reads its segments: hold everything from its start on, like an open event (they are short).
  const exporting = await db
    .selectFrom('exports')
    .select((eb) => eb.fn.min('from_pdt').as('from'))
    .where('camera', '=', camera)
    .where('state', 'in', ['queued', 'running'])
    .executeTakeFirst();
  const bounds = [row?.openFrom, exporting?.from].filter((v) => v !== null && v !== undefined).map(Number);
  return { openFrom: bounds.length ? Math.min(...bounds) : null, span: Number(row?.span ?? 0) };
}

/**
 * A filter for segments no stored event keeps: none of the camera's events has a recording range [rec_from, rec_to]
 * (rec_to null while open: up to now) that overlaps it. Retention passes over kept segments, by age and by size.
 * Old kept segments stay candidates every minute, so each check must stay cheap: open events reduce to one bound,
 * a closed one is looked up through (camera, rec_from) within `span` before the segment, never by scanning every
 * older event.
 */
function notKeptByAnEvent(kept: KeptRanges) {
  return (eb: ExpressionBuilder<StoreSchema, 'recordings'>) => {
    const end = () => eb(eb.ref('recordings.pdt'), '+', eb(eb.ref('recordings.duration'), '*', 1000));
    const keptByClosed = eb
      .selectFrom('events')
      .select('events.id')
      .whereRef('events.camera', '=', 'recordings.camera')
      .where('events.rec_from', '>=', eb(eb.ref('recordings.pdt'), '-', kept.span))
      .where('events.rec_from', '<', end())
      .where('events.rec_to', '>=', eb.ref('recordings.pdt'));
    const notClosed = eb.not(eb.exists(keptByClosed));
    return kept.openFrom === null ? notClosed : eb.and([eb(end(), '<=', kept.openFrom), notClosed]);
  };
}

async function totalBytes(db: Db, camera: string): Promise<number> {
  const row = await db.selectFrom('recording_totals').select('bytes').where('camera', '=', camera).executeTakeFirst();
  return row ? Number(row.bytes) : 0;
}

async function bumpTotals(trx: Transaction<StoreSchema>, camera: string, segments: number, bytes: number): Promise<void> {
  await trx
    .insertInto('recording_totals')
    .values({ camera, segments, bytes })
    .onConflict((oc) =>
      oc.column('camera').doUpdateSet((eb) => ({
        segments: eb('recording_totals.segments', '+', segments),
        bytes: eb('recording_totals.bytes', '+', bytes),
      })),
    )
    .execute();
}

function sum(rows: readonly { bytes: number }[]): number {
  return rows.reduce((n, r) => n + Number(r.bytes), 0);
}

function toSegment(r: RecordingsTable): RecordedSegment {
  return { seq: Number(r.seq), file: r.file, pdt: Number(r.pdt), duration: Number(r.duration), bytes: Number(r.bytes), run: Number(r.run) };
}
