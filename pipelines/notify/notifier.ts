// The notify stage as one object: channels from the config, the policy the store applies when it writes an
// event change (which channels, cooldowns), and the delivery worker. Lifecycle: `start()` turns message writing
// on and starts delivering (channels connect in the background); `close()` stops delivering and closes the
// channels (MQTT announces offline), idempotent. Message writing stays on until close so the shutdown's
// closed events are queued for the next start.
import type { NotifyConfig } from '../../config/notify.ts';
import type { Rule } from '../../config/rule.ts';
import type { Logger } from '../log.ts';
import type { KyselyOutbox, NotifyHooks, NotifyPolicy } from '../store/outbox.ts';
import { Deliverer } from './deliverer.ts';
import { eventMedia } from './media.ts';
import { MqttChannel } from './mqtt.ts';
import { configPolicy } from './policy.ts';
import type { CameraRef, Channel, DeliveryMetrics } from './types.ts';
import { WebhookChannel } from './webhook.ts';

export interface NotifierOptions {
  config: NotifyConfig;
  outbox: KyselyOutbox;
  /** The event store: writes messages with each change once hooks are set; serves the evidence files. */
  events: { setNotify(h: NotifyHooks | null): void; filePath(id: string, kind: 'snapshot' | 'thumbnail' | 'annotated'): string | null };
  /** Base of absolute links (server.publicUrl, or the bound address once known). */
  baseUrl: () => string;
  metrics?: DeliveryMetrics;
  log: Logger;
  env?: NodeJS.ProcessEnv;
}

export class Notifier {
  readonly policy: NotifyPolicy;
  readonly channels: readonly Channel[];
  readonly deliverer: Deliverer;
  #started = false;

  constructor(private readonly o: NotifierOptions) {
    this.policy = configPolicy(o.config);
    const media = eventMedia(o.baseUrl, (id, kind) => o.events.filePath(id, kind));
    const log = o.log.child({ component: 'notify' });
    this.channels = o.config.channels.map((c) =>
      c.type === 'webhook' ? new WebhookChannel(c, media, log, o.env) : new MqttChannel(c, media, this.policy, log, o.env),
    );
    this.deliverer = new Deliverer({ outbox: o.outbox, channels: this.channels, config: o.config, ...(o.metrics ? { metrics: o.metrics } : {}), log });
  }

  /** Event changes from now on write their messages (call before closing events left open by a crash). */
  attach(): void {
    this.o.events.setNotify({ policy: this.policy, queued: () => this.kick() }); // delivery waits for start()
  }

  async start(): Promise<void> {
    this.attach();
    this.#started = true;
    await this.deliverer.start();
  }

  /** The rules and cameras now in force (Home Assistant discovery follows them). */
  setRules(rules: readonly Rule[], cameras: readonly CameraRef[]): void {
    for (const c of this.channels) c.setRules?.(rules, cameras);
  }

  /** A dead letter was put back: deliver it now. */
  kick(): void {
    if (this.#started) this.deliverer.kick();
  }

  /** Delivers what is due now, waiting at most `ms` (shutdown: the closed messages of the last events). */
  async drain(ms: number): Promise<void> {
    if (!this.#started) return;
    this.deliverer.kick();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.deliverer.idle(), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await this.deliverer.close();
  }
}
