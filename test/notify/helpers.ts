// Shared setup of the notification tests: a real SQLite store in a temporary data folder and the notify stage over
// it, delivering to the channels given (fast retries so an outage test takes seconds).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotifySchema, type NotifyConfig } from '../../config/notify.ts';
import { silentLogger } from '../../pipelines/log.ts';
import { Notifier } from '../../pipelines/notify/notifier.ts';
import type { DeliveryMetrics } from '../../pipelines/notify/types.ts';
import { openSqliteStore, storeFileIn, type Store } from '../../pipelines/store/index.ts';
import { SECRET } from '../support/webhook-receiver.ts';

export const ENV = { HOOK_SECRET: SECRET };

export function notifyConfig(channels: unknown[], over: Partial<NotifyConfig> = {}): NotifyConfig {
  return NotifySchema.parse({ channels, backoff: { initialMs: 50, maxMs: 300, factor: 2 }, ...over });
}

export function hook(url: string, over: Record<string, unknown> = {}) {
  return { id: 'hook', type: 'webhook', url, secretEnv: 'HOOK_SECRET', timeout: 2, ...over };
}

export interface Counts {
  sent: number;
  retried: number;
  failed: number;
  dead: number;
}

export function countingMetrics(): DeliveryMetrics & { counts: Counts; latencies: number[] } {
  const counts: Counts = { sent: 0, retried: 0, failed: 0, dead: 0 };
  const latencies: number[] = [];
  return {
    counts,
    latencies,
    sent: (_c, s) => {
      counts.sent++;
      latencies.push(s);
    },
    retried: () => void counts.retried++,
    failed: () => void counts.failed++,
    dead: () => void counts.dead++,
  };
}

export async function openStore(dir = mkdtempSync(join(tmpdir(), 'vigil-notify-'))): Promise<{ dir: string; store: Store }> {
  return { dir, store: await openSqliteStore({ file: storeFileIn(dir), dataDir: dir }) };
}

export function notifier(store: Store, config: NotifyConfig, metrics?: DeliveryMetrics): Notifier {
  return new Notifier({ config, outbox: store.outbox, events: store.events, baseUrl: () => 'http://vigil.test:8080/', log: silentLogger, env: ENV, ...(metrics ? { metrics } : {}) });
}

export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
