// Reading events for the API and playback: filtered newest-first pages with an opaque cursor, one event with its
// evaluations, a camera's evaluations over a time range.
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Evaluation, EventRecord } from '../rules/types.ts';
import { decodeCursor, encodeCursor, toEvaluation, toEventRecord } from './event-rows.ts';
import type { StoreSchema } from './schema.ts';

export interface EventQuery {
  camera?: string;
  rule?: string;
  severity?: 'alert' | 'detection';
  state?: 'open' | 'closed';
  /** Events that started at or after this pdt (ms). */
  after?: number;
  /** Events that started before this pdt (ms). */
  before?: number;
  /** Reviewed (true) or not yet (false). */
  reviewed?: boolean;
  /** A verdict, or 'none' for events without one. */
  verdict?: 'true-positive' | 'false-positive' | 'none';
  /** Page size, 1..500 (default 50). */
  limit?: number;
  /** The `next` of the previous page. */
  cursor?: string;
}

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

/** Per day (in the caller's time zone) with events: how many started that day and how many are not reviewed. */
export interface EventDay {
  day: string;
  count: number;
  unreviewed: number;
}

export interface EventCounts {
  total: number;
  unreviewed: number;
}

type EventFilter = Omit<EventQuery, 'limit' | 'cursor'>;

/** The filters every query shares (list, counts, days). */
function filtered<T extends SelectQueryBuilder<StoreSchema, 'events', object>>(s: T, q: EventFilter): T {
  let out = s as SelectQueryBuilder<StoreSchema, 'events', object>;
  if (q.camera !== undefined) out = out.where('camera', '=', q.camera);
  if (q.rule !== undefined) out = out.where('rule', '=', q.rule);
  if (q.severity !== undefined) out = out.where('severity', '=', q.severity);
  if (q.state !== undefined) out = out.where('state', '=', q.state);
  if (q.after !== undefined) out = out.where('start_pdt', '>=', q.after);
  if (q.before !== undefined) out = out.where('start_pdt', '<', q.before);
  if (q.reviewed !== undefined) out = out.where('reviewed', '=', q.reviewed ? 1 : 0);
  if (q.verdict === 'none') out = out.where('verdict', 'is', null);
  else if (q.verdict !== undefined) out = out.where('verdict', '=', q.verdict);
  return out as T;
}

export async function countEvents(db: Kysely<StoreSchema>, q: EventFilter): Promise<EventCounts> {
  const row = await filtered(db.selectFrom('events'), q)
    .select((eb) => [eb.fn.countAll<number>().as('total'), eb.fn.sum<number>(eb.case().when('reviewed', '=', 0).then(1).else(0).end()).as('unreviewed')])
    .executeTakeFirst();
  return { total: Number(row?.total ?? 0), unreviewed: Number(row?.unreviewed ?? 0) };
}

/** Every UTC offset in use is a multiple of 15 minutes: bucket by quarter hour in SQL, map buckets to days here. */
const QUARTER_MS = 15 * 60_000;

/** Days with events in [after, before) in time zone `tz` (IANA name), oldest first. Throws RangeError for an unknown tz. */
export async function eventDays(db: Kysely<StoreSchema>, q: EventFilter, tz = 'UTC'): Promise<EventDay[]> {
  const dayOf = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
  const rows = await filtered(db.selectFrom('events'), q)
    .select((eb) => [
      sql<number>`start_pdt / ${QUARTER_MS}`.as('bucket'),
      eb.fn.countAll<number>().as('count'),
      eb.fn.sum<number>(eb.case().when('reviewed', '=', 0).then(1).else(0).end()).as('unreviewed'),
    ])
    .groupBy(sql`start_pdt / ${QUARTER_MS}`)
    .execute();
  const days = new Map<string, EventDay>();
  for (const r of rows) {
    const day = dayOf.format(new Date(Math.floor(Number(r.bucket)) * QUARTER_MS));
    const d = days.get(day) ?? { day, count: 0, unreviewed: 0 };
    d.count += Number(r.count);
    d.unreviewed += Number(r.unreviewed);
    days.set(day, d);
  }
  return [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
}

export async function listEvents(db: Kysely<StoreSchema>, q: EventQuery): Promise<{ events: EventRecord[]; next: string | null }> {
  const limit = Number.isFinite(q.limit) ? Math.min(MAX_PAGE, Math.max(1, Math.floor(q.limit!))) : DEFAULT_PAGE;
  let s = filtered(db.selectFrom('events').selectAll(), q);
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor);
    // A row-value comparison: (start_pdt, id) strictly after the last row of the previous page, in page order.
    s = s.where((eb) => eb(eb.refTuple('start_pdt', 'id'), '<', eb.tuple(c.startPdt, c.id)));
  }
  const rows = await s.orderBy('start_pdt', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
  const events = rows.slice(0, limit).map(toEventRecord);
  const last = events[events.length - 1];
  return { events, next: rows.length > limit && last ? encodeCursor(last) : null };
}

export async function getEvent(db: Kysely<StoreSchema>, id: string): Promise<(EventRecord & { evaluations: Evaluation[] }) | null> {
  const row = await db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return null;
  const evaluations = await evaluationsQuery(db).where('evaluations.event_id', '=', id).orderBy('evaluations.pdt').orderBy('evaluations.id').execute();
  return { ...toEventRecord(row), evaluations: evaluations.map(toEvaluation) };
}

export async function evaluationsBetween(db: Kysely<StoreSchema>, camera: string, fromPdt: number, toPdt: number, rule?: string): Promise<Evaluation[]> {
  let q = evaluationsQuery(db).where('evaluations.camera', '=', camera).where('evaluations.pdt', '>=', fromPdt).where('evaluations.pdt', '<=', toPdt);
  if (rule !== undefined) q = q.where('evaluations.rule', '=', rule);
  return (await q.orderBy('evaluations.pdt').orderBy('evaluations.id').execute()).map(toEvaluation);
}

function evaluationsQuery(db: Kysely<StoreSchema>) {
  return db
    .selectFrom('evaluations')
    .leftJoin('prompts', 'prompts.hash', 'evaluations.prompt_hash')
    .selectAll('evaluations')
    .select('prompts.text as prompt_text');
}
