// The server's retention timer runs the store's event retention by itself: an old closed event disappears with
// its folder without anyone calling retain(), and stopping the timer waits for a pass in flight.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { EventsSchema } from '../../config/rule.ts';
import { openSqliteStore, storeFileIn, type Store } from '../../pipelines/store/index.ts';
import { startEventRetention } from '../../server/rules/event-retention.ts';
import { newEvent } from '../support/events.ts';

let dataDir: string;
let store: Store;
beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-retention-timer-'));
  store = await openSqliteStore({ file: storeFileIn(dataDir), dataDir });
});
afterEach(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it('deletes expired events on its own schedule and keeps recent ones', async () => {
  const now = Date.now();
  const old = await store.events.open(newEvent({ startPdt: now - 5 * 86_400_000 }));
  await store.events.close(old.id, now - 5 * 86_400_000 + 1000, 'negatives');
  const recent = await store.events.open(newEvent({ startPdt: now - 60_000 }));
  const stop = startEventRetention(store.events, EventsSchema.parse({ maxAgeDays: 1 }), pino({ level: 'silent' }), 50);
  try {
    // Rows go first, files after: wait for the folder, then the row must already be gone.
    await expect.poll(() => existsSync(join(dataDir, 'events', old.id)), { timeout: 5000 }).toBe(false);
    expect(await store.events.get(old.id)).toBeNull();
    expect(await store.events.get(recent.id)).not.toBeNull();
  } finally {
    await stop();
  }
});
