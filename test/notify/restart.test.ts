// `vigil serve` as a user starts it, on a data folder an earlier run left with undelivered messages and an event
// still open (that run died): the pending messages go out after the start, and the event closed by crash recovery
// sends its `closed`, all signed, none twice under different ids.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { T0, newEvent } from '../support/events.ts';
import { startVigil, type VigilProcess } from '../support/vigil-process.ts';
import { SECRET, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { hook, notifier, notifyConfig, openStore, until } from './helpers.ts';

describe('restart with undelivered messages', () => {
  let vigil: VigilProcess | undefined;
  let recv: WebhookReceiver | undefined;
  afterEach(async () => {
    await vigil?.stop();
    await recv?.close();
  });

  it('delivers them after vigil serve starts, and the closed of the event recovery closes', async () => {
    recv = await startWebhookReceiver();
    const dir = mkdtempSync(join(tmpdir(), 'vigil-notify-restart-'));
    // The earlier run: two events written while the receiver was unreachable, one of them still open.
    const { store } = await openStore(join(dir, 'data'));
    const earlier = notifier(store, notifyConfig([hook('http://127.0.0.1:9/unreachable')]));
    earlier.attach();
    const done = await store.events.open(newEvent({ camera: 'yard', startPdt: T0 }));
    await store.events.update(done.id, { peak: 2, endPdt: T0 + 1000 });
    await store.events.close(done.id, T0 + 3000, 'negatives');
    const open = await store.events.open(newEvent({ camera: 'yard', startPdt: T0 + 600_000 }));
    const pending = [...(await store.outbox.ofEvent(done.id)), ...(await store.outbox.ofEvent(open.id))].map((m) => m.id);
    expect(pending).toHaveLength(4);
    await store.close();

    vigil = await startVigil(
      dir,
      {
        cameras: [{ id: 'yard', source: 'testsrc', enabled: false }],
        notify: { channels: [{ id: 'hook', type: 'webhook', url: recv.url, secretEnv: 'VIGIL_HOOK_SECRET' }] },
      },
      { VIGIL_HOOK_SECRET: SECRET },
    );
    await until(() => new Set(recv!.received.map((r) => r.id)).size === 5, 'the pending messages and the recovery close', 30_000);
    const ids = new Set(recv.received.map((r) => r.id));
    for (const id of pending) expect(ids.has(id)).toBe(true);
    // Per event, in order (events interleave: a message waits only for the older ones of its own event).
    expect(recv.received.filter((r) => r.body.data.event.id === done.id).map((r) => r.body.data.message)).toEqual(['opened', 'updated', 'closed']);
    const last = recv.received.find((r) => !pending.includes(r.id))!;
    expect(last.body.data.message).toBe('closed');
    expect(last.body.data.event).toMatchObject({ id: open.id, state: 'closed', closeReason: 'recovered-after-crash' });
    expect(recv.received.every((r) => r.verified)).toBe(true);
  }, 60_000);
});
