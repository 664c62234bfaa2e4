// Reading events for the API and playback: filtered newest-first pages with an opaque cursor, one event with its
// evaluations, a camera's evaluations over a time range.
import type { Kysely } from 'kysely';
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
  /** Page size, 1..500 (default 50). */
  limit?: number;
  /** The `next` of the previous page. */
  cursor?: string;
}

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

export async function listEvents(db: Kysely<StoreSchema>, q: EventQuery): Promise<{ events: EventRecord[]; next: string | null }> {
  const limit = Number.isFinite(q.limit) ? Math.min(MAX_PAGE, Math.max(1, Math.floor(q.limit!))) : DEFAULT_PAGE;
  let s = db.selectFrom('events').selectAll();
  if (q.camera !== undefined) s = s.where('camera', '=', q.camera);
  if (q.rule !== undefined) s = s.where('rule', '=', q.rule);
  if (q.severity !== undefined) s = s.where('severity', '=', q.severity);
  if (q.state !== undefined) s = s.where('state', '=', q.state);
  if (q.after !== undefined) s = s.where('start_pdt', '>=', q.after);
  if (q.before !== undefined) s = s.where('start_pdt', '<', q.before);
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
