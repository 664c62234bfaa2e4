// The outbox side of an event change: runs inside the same transaction as the event row it reports, so a
// message exists exactly when its change committed (no message for a change rolled back, none lost to a crash
// between the two). What each channel was told is kept per (event, channel): one `opened` per event, `updated`
// only when the peak count or the best frame changed, `closed` once; a suppressed event (snooze, cooldown,
// severity) stays silent on that channel for its whole life.
import type { Transaction } from 'kysely';
import type { Rule } from '../../config/rule.ts';
import type { EventRecord } from '../rules/types.ts';
import type { StoreSchema } from './schema.ts';

type Trx = Transaction<StoreSchema>;

export type MessageKind = 'opened' | 'updated' | 'closed';

/** A channel an event may go to, with its cooldown (ms of video time from the last message for the same rule and camera). */
export interface NotifyTarget {
  channel: string;
  cooldownMs: number;
}

/** Which channels an event of `rule` on `camera` goes to: a pure function of the config (pipelines/notify/policy.ts). */
export interface NotifyPolicy {
  targets(rule: Rule, camera: string): NotifyTarget[];
}

/** What the store needs to write messages: the policy, and a nudge for the delivery worker after a commit. */
export interface NotifyHooks {
  policy: NotifyPolicy;
  queued?: () => void;
}

/** Body stored with a message: the event after the change and, for updated/closed, before it. */
export interface MessagePayload {
  event: EventRecord;
  before: EventRecord | null;
}

/** The message id (webhook-id): stable across retries and restarts, unique per (event, channel, message). */
export function messageId(eventId: string, channel: string, n: number): string {
  return `msg_${eventId}_${channel}_${n}`;
}

/** Writes the `opened` message for every target not snoozed or in cooldown; records the decision per channel. */
export async function enqueueOpened(trx: Trx, hooks: NotifyHooks | null, rule: Rule, event: EventRecord, now: number): Promise<number> {
  if (!hooks) return 0;
  let written = 0;
  const snoozed = await isSnoozed(trx, event.rule, event.camera, now);
  for (const t of hooks.policy.targets(rule, event.camera)) {
    const last = await trx
      .selectFrom('notify_last')
      .select('pdt')
      .where('rule', '=', event.rule)
      .where('camera', '=', event.camera)
      .where('channel', '=', t.channel)
      .executeTakeFirst();
    const cooling = last !== undefined && event.startPdt - Number(last.pdt) < t.cooldownMs;
    const status = snoozed ? 'snoozed' : cooling ? 'cooldown' : 'notified';
    await trx
      .insertInto('notify_events')
      .values({ event_id: event.id, channel: t.channel, status, peak: event.peak, best_pdt: event.bestPdt, messages: status === 'notified' ? 1 : 0 })
      .onConflict((oc) => oc.columns(['event_id', 'channel']).doNothing())
      .execute();
    if (status !== 'notified') continue;
    await insertMessage(trx, t.channel, 'opened', 1, { event, before: null }, event.startPdt, now);
    written++;
  }
  return written;
}

/**
 * Writes `updated` (only when the peak or the best frame changed since the last message) or `closed` for every
 * channel that was told about the event's opening.
 */
export async function enqueueChange(trx: Trx, kind: 'updated' | 'closed', before: EventRecord, after: EventRecord, framePdt: number, now: number): Promise<number> {
  const told = await trx.selectFrom('notify_events').selectAll().where('event_id', '=', after.id).where('status', '=', 'notified').execute();
  let written = 0;
  for (const row of told) {
    const changed = Number(row.peak) !== after.peak || Number(row.best_pdt) !== after.bestPdt;
    if (kind === 'updated' && !changed) continue;
    const n = Number(row.messages) + 1;
    await trx
      .updateTable('notify_events')
      .set({ peak: after.peak, best_pdt: after.bestPdt, messages: n, status: kind === 'closed' ? 'notified' : row.status })
      .where('event_id', '=', row.event_id)
      .where('channel', '=', row.channel)
      .execute();
    await insertMessage(trx, row.channel, kind, n, { event: after, before }, framePdt, now);
    written++;
  }
  return written;
}

async function insertMessage(trx: Trx, channel: string, kind: MessageKind, n: number, payload: MessagePayload, framePdt: number, now: number): Promise<void> {
  const e = payload.event;
  await trx
    .insertInto('notify_outbox')
    .values({
      id: messageId(e.id, channel, n),
      channel,
      event_id: e.id,
      kind,
      rule: e.rule,
      camera: e.camera,
      payload: JSON.stringify(payload),
      frame_pdt: framePdt,
      created_at: now,
      state: 'pending',
      attempts: 0,
      next_at: now,
      last_error: null,
      done_at: null,
    })
    .execute();
  // The cooldown counts from the last message of any kind for this rule, camera and channel (video time).
  await trx
    .insertInto('notify_last')
    .values({ rule: e.rule, camera: e.camera, channel, pdt: framePdt })
    .onConflict((oc) => oc.columns(['rule', 'camera', 'channel']).doUpdateSet({ pdt: framePdt }))
    .execute();
}

async function isSnoozed(trx: Trx, rule: string, camera: string, now: number): Promise<boolean> {
  const hit = await trx
    .selectFrom('notify_snoozes')
    .select('id')
    .where('until', '>', now)
    .where((eb) => eb.and([eb.or([eb('rule', 'is', null), eb('rule', '=', rule)]), eb.or([eb('camera', 'is', null), eb('camera', '=', camera)])]))
    .executeTakeFirst();
  return hit !== undefined;
}
