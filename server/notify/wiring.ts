// Notifications inside the server: the notify stage over the store's outbox and event files, its figures in
// Vigil's Prometheus registry, links under server.publicUrl (or the bound address), and the routes' port.
import type { Registry } from 'prom-client';
import type { VigilConfig } from '../../config/schema.ts';
import { Notifier } from '../../pipelines/notify/notifier.ts';
import type { Store } from '../../pipelines/store/index.ts';
import type { Logger } from '../log.ts';
import type { NotifyRouteDeps } from '../http/notify.ts';
import { deliveryMetrics } from './metrics.ts';

export function createNotifier(config: Readonly<VigilConfig>, store: Store, registry: Registry, baseUrl: () => string, log: Logger): Notifier {
  return new Notifier({
    config: config.notify,
    outbox: store.outbox,
    events: store.events,
    baseUrl: () => config.server.publicUrl ?? baseUrl(),
    metrics: deliveryMetrics(registry),
    log,
  });
}

export function notifyRouteDeps(store: Store, notifier: Notifier, config: Readonly<VigilConfig>): NotifyRouteDeps {
  return { outbox: store.outbox, kick: () => notifier.kick(), channels: () => config.notify.channels.map((c) => ({ id: c.id, type: c.type })) };
}

/** Rules as Home Assistant discovery sees them: the enabled ones with the configured cameras. */
export function cameraRefs(config: Readonly<VigilConfig>): Array<{ id: string; name?: string }> {
  return config.cameras.map((c) => ({ id: c.id, ...(c.name ? { name: c.name } : {}) }));
}
