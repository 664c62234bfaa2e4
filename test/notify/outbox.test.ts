// The outbox through the real SQLite store: messages written in the transaction of their event change, one
// `opened` per event however long it stays open (video time, so a 40-minute event takes milliseconds), `updated`
// only when the peak or the best frame changed, one `closed`; cooldown from the last message, snoozes, severity.
// Delivered to a webhook receiver that verifies every signature with the library's own verifier.
import { afterEach, describe, expect, it } from 'vitest';
import type { EventUpdate } from '../../pipelines/rules/types.ts';
import type { Store } from '../../pipelines/store/index.ts';
import type { Notifier } from '../../pipelines/notify/notifier.ts';
import { T0, evidence, newEvent } from '../support/events.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { hook, notifier, notifyConfig, openStore, until } from './helpers.ts';

const MIN = 60_000;

describe('notification outbox', () => {
  let store: Store | undefined;
  let n: Notifier | undefined;
  let recv: WebhookReceiver | undefined;
  afterEach(async () => {
    await n?.close();
    await store?.close();
    await recv?.close();
  });

  it('sends one opened, an updated per new peak or better frame, one closed for a 40-minute event, never a second opened', async () => {
    recv = await startWebhookReceiver();
    ({ store } = await openStore());
    n = notifier(store, notifyConfig([hook(recv.url, { thumbnail: true })]));
    await n.start();
    const ev = await store.events.open(newEvent({ startPdt: T0 }));
    // Every 10 s of video for 40 minutes the loop extends the event; only three of these changes are news.
    for (let t = 10_000; t <= 40 * MIN; t += 10_000) {
      const change: EventUpdate = { endPdt: T0 + t, peak: t >= 30 * MIN ? 3 : t >= 5 * MIN ? 2 : 1 };
      if (t === 20 * MIN) change.evidence = evidence('better', T0 + t);
      await store.events.update(ev.id, change);
    }
    await store.events.close(ev.id, T0 + 40 * MIN, 'negatives', T0 + 40 * MIN + 3000);
    const rows = await store.outbox.ofEvent(ev.id);
    expect(rows.map((r) => r.kind)).toEqual(['opened', 'updated', 'updated', 'updated', 'closed']);
    expect(rows.map((r) => r.payload.event.peak)).toEqual([1, 2, 2, 3, 3]);
    expect(rows[2]!.payload.before!.bestPdt).toBe(T0);
    expect(rows[2]!.payload.event.bestPdt).toBe(T0 + 20 * MIN);
    expect(rows[4]!.framePdt).toBe(T0 + 40 * MIN + 3000);

    await until(() => recv!.received.length === 5, 'five webhooks');
    const got = recv.received;
    expect(got.map((r) => r.body.type)).toEqual(['event.opened', 'event.updated', 'event.updated', 'event.updated', 'event.closed']);
    expect(got.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    expect(new Set(got.map((r) => r.body.data.event.id))).toEqual(new Set([ev.id]));
    expect(got.every((r) => r.verified)).toBe(true);
    expect(got[0]!.body.data.links.snapshot).toBe(`http://vigil.test:8080/api/events/${ev.id}/snapshot`);
    expect(got[0]!.body.data.rule.id).toBe('helmets');
    expect(got[4]!.body.data.event.state).toBe('closed');
    // The inline thumbnail is the event's own file: the better frame's from the update that brought it.
    expect(Buffer.from(got[0]!.body.data.thumbnail!, 'base64').toString('latin1')).toContain('thumbnail');
    expect(recv.refused).toBe(0);
  });

  it('writes a message only with a change that commits', async () => {
    ({ store } = await openStore());
    n = notifier(store, notifyConfig([hook('http://127.0.0.1:9/none')]));
    n.attach(); // writing on, no delivery
    const ev = await store.events.open(newEvent());
    await store.events.close(ev.id, T0 + 5000, 'negatives');
    await expect(store.events.update(ev.id, { peak: 7, endPdt: T0 + 9000 })).rejects.toThrow(/closed/);
    await store.events.close(ev.id, T0 + 9000, 'negatives'); // already closed: unchanged, no second closed
    expect((await store.outbox.ofEvent(ev.id)).map((r) => r.kind)).toEqual(['opened', 'closed']);
  });

  it('keeps an event silent through cooldown, snooze or severity, and for its whole life', async () => {
    ({ store } = await openStore());
    n = notifier(store, notifyConfig([hook('http://127.0.0.1:9/none')]));
    n.attach();
    const s = store;
    const cycle = async (startPdt: number, over: Parameters<typeof newEvent>[0] = {}) => {
      const ev = await s.events.open(newEvent({ startPdt, ...over }));
      await s.events.update(ev.id, { peak: 4, endPdt: startPdt + 5000 });
      await s.events.close(ev.id, startPdt + 10_000, 'negatives');
      return (await s.outbox.ofEvent(ev.id)).map((r) => r.kind);
    };
    const cooled = { ruleOver: { notify: { cooldown: 120 } } };
    expect(await cycle(T0, cooled)).toEqual(['opened', 'updated', 'closed']);
    // Opens 50 s after the last message (the close at T0 + 10 s): inside the 120 s cooldown.
    expect(await cycle(T0 + 60_000, cooled)).toEqual([]);
    // 130 s after that last message: notified again (the silent event sent nothing, so it did not restart the clock).
    expect(await cycle(T0 + 140_000, cooled)).toEqual(['opened', 'updated', 'closed']);

    const snooze = await s.outbox.snooze({ camera: 'cam', until: Date.now() + 10 * MIN }, Date.now());
    expect(await cycle(T0 + 1000_000)).toEqual([]);
    expect(await cycle(T0 + 1100_000, { camera: 'other' })).toEqual(['opened', 'updated', 'closed']);
    expect(await s.outbox.snoozes(Date.now())).toHaveLength(1);
    await s.outbox.unsnooze(snooze.id);
    expect(await cycle(T0 + 1200_000)).toEqual(['opened', 'updated', 'closed']);
    await s.outbox.snooze({ rule: 'helmets', camera: 'cam', until: Date.now() + MIN }, Date.now());
    expect(await cycle(T0 + 1300_000)).toEqual([]);
    expect(await cycle(T0 + 1400_000, { ruleOver: { id: 'smoke' } })).toEqual(['opened', 'updated', 'closed']);

    // Detection severity: notified only when the rule asks for it; a rule naming no channels is silent.
    expect(await cycle(T0 + 1500_000, { camera: 'c2', ruleOver: { severity: 'detection' } })).toEqual([]);
    expect(await cycle(T0 + 1600_000, { camera: 'c2', ruleOver: { severity: 'detection', notify: { minSeverity: 'detection' } } })).toEqual(['opened', 'updated', 'closed']);
    expect(await cycle(T0 + 1700_000, { camera: 'c3', ruleOver: { notify: { channels: [] } } })).toEqual([]);
  });
});
