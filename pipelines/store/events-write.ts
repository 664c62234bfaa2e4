// The row side of EventSink: each function runs inside the caller's transaction, together with the outbox
// messages the change causes (outbox-write.ts). Files are the caller's (events.ts): written before these run,
// removed after they commit.
import type { Selectable, Transaction } from 'kysely';
import type { CloseReason, Evaluation, EventUpdate } from '../rules/types.ts';
import { EventStoreError, evaluationRow, promptHash, toEventRecord } from './event-rows.ts';
import { enqueueChange } from './outbox-write.ts';
import type { EventsTable, StoreSchema } from './schema.ts';

type Trx = Transaction<StoreSchema>;
type EventRow = Selectable<EventsTable>;

/** 20 parameters per evaluation row: 200 rows stay far below SQLite's and PostgreSQL's limits. */
const CHUNK = 200;

export async function eventRow(trx: Trx, id: string): Promise<EventRow> {
  const row = await trx.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new EventStoreError('EVENT_NOT_FOUND', `event ${id} does not exist (deleted, or never stored)`);
  return row;
}

/** Applies an update to an open event; `tag` is the new evidence generation when the update brings a frame. `queued`: messages written. */
export async function updateEventRow(trx: Trx, id: string, change: EventUpdate, tag: string | null, now: number): Promise<{ row: EventRow; queued: number }> {
  const cur = await eventRow(trx, id);
  if (cur.state !== 'open') throw new EventStoreError('EVENT_CLOSED', `event ${id} is closed (${cur.close_reason}); a new positive opens a new event`);
  const set: Partial<EventRow> = {};
  if (change.endPdt !== undefined) set.end_pdt = Math.max(Number(cur.end_pdt ?? cur.start_pdt), change.endPdt);
  if (change.peak !== undefined) set.peak = Math.max(Number(cur.peak), change.peak);
  if (change.evidence && tag) {
    set.best_pdt = change.evidence.pdt;
    set.evidence_tag = tag;
  }
  if (Object.keys(set).length) await trx.updateTable('events').set(set).where('id', '=', id).execute();
  const row = { ...cur, ...set };
  const framePdt = change.endPdt ?? change.evidence?.pdt ?? Number(row.end_pdt ?? row.start_pdt);
  return { row, queued: await enqueueChange(trx, 'updated', toEventRecord(cur), toEventRecord(row), framePdt, now) };
}

/** Closes one event at `endPdt` (`framePdt`: the evaluation that closed it); an event already closed is returned unchanged. */
export async function closeEventRow(trx: Trx, id: string, endPdt: number, reason: CloseReason, framePdt: number, now: number): Promise<{ row: EventRow; queued: number }> {
  const cur = await eventRow(trx, id);
  if (cur.state !== 'open') return { row: cur, queued: 0 };
  return closeRow(trx, cur, endPdt, reason, framePdt, now);
}

/** Closes every open event at its last positive pdt. */
export async function closeAllOpenRows(trx: Trx, reason: CloseReason, now: number): Promise<{ rows: EventRow[]; queued: number }> {
  const open = await trx.selectFrom('events').selectAll().where('state', '=', 'open').orderBy('start_pdt').execute();
  const rows: EventRow[] = [];
  let queued = 0;
  for (const cur of open) {
    const end = Number(cur.end_pdt ?? cur.start_pdt);
    const r = await closeRow(trx, cur, end, reason, end, now);
    rows.push(r.row);
    queued += r.queued;
  }
  return { rows, queued };
}

async function closeRow(trx: Trx, cur: EventRow, endPdt: number, reason: CloseReason, framePdt: number, now: number): Promise<{ row: EventRow; queued: number }> {
  const set = { state: 'closed', end_pdt: endPdt, close_reason: reason, rec_to: endPdt + Number(cur.post_ms) };
  await trx.updateTable('events').set(set).where('id', '=', cur.id).execute();
  const row = { ...cur, ...set };
  return { row, queued: await enqueueChange(trx, 'closed', toEventRecord(cur), toEventRecord(row), framePdt, now) };
}

/** Inserts evaluations, each prompt text stored once (`prompts`, keyed by hash, with the newest pdt that used it). */
export async function insertEvaluations(trx: Trx, evals: ReadonlyArray<{ evaluation: Evaluation; eventId: string | null }>): Promise<void> {
  const prompts = new Map<string, { text: string; lastUsed: number }>();
  const rows = evals.map(({ evaluation: e, eventId }) => {
    if (e.prompt === null) return evaluationRow(e, eventId, null);
    const hash = promptHash(e.prompt);
    const seen = prompts.get(hash);
    prompts.set(hash, { text: e.prompt, lastUsed: Math.max(seen?.lastUsed ?? -Infinity, e.pdt) });
    return evaluationRow(e, eventId, hash);
  });
  for (const [hash, p] of prompts) {
    await trx
      .insertInto('prompts')
      .values({ hash, text: p.text, last_used: p.lastUsed })
      .onConflict((oc) => oc.column('hash').doUpdateSet({ last_used: p.lastUsed }).where('prompts.last_used', '<', p.lastUsed))
      .execute();
  }
  for (let i = 0; i < rows.length; i += CHUNK) await trx.insertInto('evaluations').values(rows.slice(i, i + CHUNK)).execute();
}
