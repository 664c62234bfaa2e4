// The outbox as the delivery worker and the API see it: due messages in order, attempts, dead letters and
// snoozes. Messages are written by the event store in the transaction of their event change (outbox-write.ts).
import type { Kysely, Selectable } from 'kysely';
import type { MessageKind, MessagePayload } from './outbox-write.ts';
import type { NotifyOutboxTable, StoreSchema } from './schema.ts';

export type { MessageKind, MessagePayload, NotifyHooks, NotifyPolicy, NotifyTarget } from './outbox-write.ts';
export { messageId } from './outbox-write.ts';

export interface OutboxMessage {
  id: string;
  channel: string;
  eventId: string;
  kind: MessageKind;
  rule: string;
  camera: string;
  payload: MessagePayload;
  framePdt: number;
  createdAt: number;
  state: 'pending' | 'sent' | 'dead';
  attempts: number;
  nextAt: number;
  lastError: string | null;
  doneAt: number | null;
}

export interface Snooze {
  id: number;
  rule: string | null;
  camera: string | null;
  until: number;
  createdAt: number;
}

function toMessage(r: Selectable<NotifyOutboxTable>): OutboxMessage {
  return {
    id: r.id,
    channel: r.channel,
    eventId: r.event_id,
    kind: r.kind as MessageKind,
    rule: r.rule,
    camera: r.camera,
    payload: JSON.parse(r.payload) as MessagePayload,
    framePdt: Number(r.frame_pdt),
    createdAt: Number(r.created_at),
    state: r.state as OutboxMessage['state'],
    attempts: Number(r.attempts),
    nextAt: Number(r.next_at),
    lastError: r.last_error,
    doneAt: r.done_at === null ? null : Number(r.done_at),
  };
}

export class KyselyOutbox {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  /**
   * Pending messages of a channel due at `now`, oldest first. A message waits while an older pending message of the
   * same event on the same channel exists, so a receiver sees opened before updated before closed.
   */
  async due(channel: string, now: number, limit = 50): Promise<OutboxMessage[]> {
    const rows = await this.db
      .selectFrom('notify_outbox as o')
      .selectAll('o')
      .where('o.state', '=', 'pending')
      .where('o.channel', '=', channel)
      .where('o.next_at', '<=', now)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('notify_outbox as p')
              .select('p.seq')
              .whereRef('p.event_id', '=', 'o.event_id')
              .whereRef('p.channel', '=', 'o.channel')
              .where('p.state', '=', 'pending')
              .whereRef('p.seq', '<', 'o.seq'),
          ),
        ),
      )
      .orderBy('o.seq')
      .limit(limit)
      .execute();
    return rows.map(toMessage);
  }

  /** Wall-clock ms of the earliest pending attempt (null when nothing is pending). */
  async nextDue(): Promise<number | null> {
    const row = await this.db.selectFrom('notify_outbox').select((s) => s.fn.min('next_at').as('at')).where('state', '=', 'pending').executeTakeFirst();
    return row?.at == null ? null : Number(row.at);
  }

  /** Channels with pending messages (a removed channel's messages are dead-lettered by the worker). */
  async pendingChannels(): Promise<string[]> {
    return (await this.db.selectFrom('notify_outbox').select('channel').distinct().where('state', '=', 'pending').execute()).map((r) => r.channel);
  }

  async sent(id: string, now: number): Promise<void> {
    await this.db.updateTable('notify_outbox').set({ state: 'sent', done_at: now, last_error: null }).where('id', '=', id).execute();
  }

  /** A failed attempt: the next one at `nextAt`, or the dead letters when `dead`. */
  async failed(id: string, attempts: number, error: string, nextAt: number, dead: boolean): Promise<void> {
    await this.db
      .updateTable('notify_outbox')
      .set({ attempts, last_error: error.slice(0, 500), next_at: nextAt, ...(dead ? { state: 'dead', done_at: nextAt } : {}) })
      .where('id', '=', id)
      .execute();
  }

  async get(id: string): Promise<OutboxMessage | null> {
    const row = await this.db.selectFrom('notify_outbox').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toMessage(row) : null;
  }

  /** Messages of one event, oldest first (all channels). */
  async ofEvent(eventId: string): Promise<OutboxMessage[]> {
    return (await this.db.selectFrom('notify_outbox').selectAll().where('event_id', '=', eventId).orderBy('seq').execute()).map(toMessage);
  }

  /** Dead letters, newest first. */
  async dead(limit = 200): Promise<OutboxMessage[]> {
    return (await this.db.selectFrom('notify_outbox').selectAll().where('state', '=', 'dead').orderBy('seq', 'desc').limit(limit).execute()).map(toMessage);
  }

  /** Puts a dead letter back in the queue with a fresh attempt count; false when there is no such dead letter. */
  async retry(id: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('notify_outbox')
      .set({ state: 'pending', attempts: 0, next_at: now, done_at: null })
      .where('id', '=', id)
      .where('state', '=', 'dead')
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /** Deletes delivered messages done before `before` (wall-clock ms); returns how many. */
  async pruneSent(before: number): Promise<number> {
    const r = await this.db.deleteFrom('notify_outbox').where('state', '=', 'sent').where('done_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async snooze(s: { rule?: string | undefined; camera?: string | undefined; until: number }, now: number): Promise<Snooze> {
    const row = await this.db
      .insertInto('notify_snoozes')
      .values({ rule: s.rule ?? null, camera: s.camera ?? null, until: s.until, created_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: Number(row.id), rule: s.rule ?? null, camera: s.camera ?? null, until: s.until, createdAt: now };
  }

  /** Snoozes still in force at `now` (expired ones are deleted). */
  async snoozes(now: number): Promise<Snooze[]> {
    await this.db.deleteFrom('notify_snoozes').where('until', '<=', now).execute();
    const rows = await this.db.selectFrom('notify_snoozes').selectAll().orderBy('until').execute();
    return rows.map((r) => ({ id: Number(r.id), rule: r.rule, camera: r.camera, until: Number(r.until), createdAt: Number(r.created_at) }));
  }

  async unsnooze(id: number): Promise<boolean> {
    return (await this.db.deleteFrom('notify_snoozes').where('id', '=', id).executeTakeFirst()).numDeletedRows > 0n;
  }
}
