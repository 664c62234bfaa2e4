// Delivery when receivers misbehave: the receiver down for a while then back (every message arrives, none lost,
// duplicates only under the same webhook-id), Vigil stopped with undelivered rows and started again (they go out
// after the restart), a receiver that keeps failing (dead letters after maxAttempts; retried on request), and a
// message for a channel no longer configured (dead at once, with the reason).
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../pipelines/store/index.ts';
import type { Notifier } from '../../pipelines/notify/notifier.ts';
import { T0, newEvent } from '../support/events.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { countingMetrics, hook, notifier, notifyConfig, openStore, until } from './helpers.ts';

/** Three events on three cameras: opened, a bigger count, closed (nine messages). */
async function burst(store: Store, base = T0): Promise<string[]> {
  const ids: string[] = [];
  for (const cam of ['a', 'b', 'c']) {
    const ev = await store.events.open(newEvent({ camera: cam, startPdt: base }));
    await store.events.update(ev.id, { peak: 2, endPdt: base + 2000 });
    await store.events.close(ev.id, base + 5000, 'negatives');
    ids.push(ev.id);
  }
  return ids;
}

async function allMessageIds(store: Store, events: string[]): Promise<string[]> {
  return (await Promise.all(events.map((e) => store.outbox.ofEvent(e)))).flat().map((m) => m.id);
}

describe('webhook delivery', () => {
  let store: Store | undefined;
  let n: Notifier | undefined;
  let recv: WebhookReceiver | undefined;
  afterEach(async () => {
    await n?.close();
    await store?.close();
    await recv?.close();
  });

  it('delivers every message once the receiver is back, in order per event, duplicates only by id', async () => {
    recv = await startWebhookReceiver();
    await recv.down();
    ({ store } = await openStore());
    const metrics = countingMetrics();
    n = notifier(store, notifyConfig([hook(recv.url)]), metrics);
    await n.start();
    const events = await burst(store);
    await until(() => metrics.counts.failed >= 3, 'failed attempts while the receiver is down');
    await recv.up();
    const expected = await allMessageIds(store, events);
    await until(() => new Set(recv!.received.map((r) => r.id)).size === expected.length, 'every message');
    expect(new Set(recv.received.map((r) => r.id))).toEqual(new Set(expected));
    for (const e of events) {
      const kinds = recv.received.filter((r) => r.body.data.event.id === e).map((r) => r.body.data.message);
      expect([...new Set(kinds)]).toEqual(['opened', 'updated', 'closed']);
    }
    // A repeated delivery carries the same id and the same body.
    const byId = new Map<string, string>();
    for (const r of recv.received) {
      const body = JSON.stringify(r.body.data);
      expect(byId.get(r.id) ?? body).toBe(body);
      byId.set(r.id, body);
    }
    expect(metrics.counts.retried).toBeGreaterThan(0);
    // The receiver records a request before its 2xx reaches Vigil: wait for the last acknowledgement to be counted.
    await until(() => metrics.counts.sent >= recv!.received.length, 'the last acknowledgement counted');
    expect(metrics.counts.sent).toBe(recv.received.length);
    expect(metrics.counts.dead).toBe(0);
  });

  it('delivers rows left undelivered by a stopped Vigil after it starts again', async () => {
    recv = await startWebhookReceiver();
    await recv.down();
    let dir: string;
    ({ dir, store } = await openStore());
    n = notifier(store, notifyConfig([hook(recv.url)]));
    await n.start();
    const events = await burst(store);
    const expected = await allMessageIds(store, events);
    await n.close();
    await store.close();
    expect(recv.received).toHaveLength(0);

    await recv.up();
    ({ store } = await openStore(dir));
    n = notifier(store, notifyConfig([hook(recv.url)]));
    await n.start();
    await until(() => new Set(recv!.received.map((r) => r.id)).size === expected.length, 'the pending messages after the restart');
    expect(new Set(recv.received.map((r) => r.id))).toEqual(new Set(expected));
    expect(recv.received.every((r) => r.verified)).toBe(true);
  });

  it('dead-letters a message after maxAttempts and sends it again when retried', async () => {
    recv = await startWebhookReceiver();
    recv.failing(true);
    ({ store } = await openStore());
    const metrics = countingMetrics();
    n = notifier(store, notifyConfig([hook(recv.url)], { maxAttempts: 3 }), metrics);
    await n.start();
    const ev = await store.events.open(newEvent());
    const s = store;
    await until(async () => (await s.outbox.dead()).length === 1, 'the dead letter');
    const [dead] = await s.outbox.dead();
    expect(dead!.attempts).toBe(3);
    expect(dead!.lastError).toMatch(/HTTP 503/);
    expect(metrics.counts).toMatchObject({ failed: 3, dead: 1, retried: 2, sent: 0 });

    recv.failing(false);
    expect(await s.outbox.retry(dead!.id, Date.now())).toBe(true);
    n.kick();
    await until(() => recv!.received.length === 1, 'the retried message');
    expect(recv.received[0]!.id).toBe(dead!.id);
    expect(recv.received[0]!.body.data.event.id).toBe(ev.id);
    expect(await s.outbox.dead()).toHaveLength(0);
    expect(await s.outbox.retry(dead!.id, Date.now())).toBe(false); // sent: nothing to retry
  });

  it('dead-letters at once what a channel no longer configured was owed', async () => {
    ({ store } = await openStore());
    const first = notifier(store, notifyConfig([hook('http://127.0.0.1:9/x', { id: 'old' })]));
    first.attach();
    const ev = await store.events.open(newEvent());
    await store.events.close(ev.id, T0 + 5000, 'negatives');
    n = notifier(store, notifyConfig([hook('http://127.0.0.1:9/x', { id: 'new' })]));
    await n.start();
    const s = store;
    await until(async () => (await s.outbox.dead()).length === 2, 'both orphans dead-lettered');
    for (const m of await s.outbox.dead()) expect(m.lastError).toMatch(/channel "old" is not configured/);
    await first.close();
  });
});
