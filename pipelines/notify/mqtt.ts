// MQTT channel (the `mqtt` client): `<prefix>/events` (opened/updated/closed with before/after, like Frigate's
// frigate/events), `<prefix>/<camera>/<rule>/state` ON/OFF and `<prefix>/<camera>/<rule>/snapshot` JPEG (both
// retained), `<prefix>/available` online/offline (retained; a last will says offline when Vigil dies), and Home
// Assistant discovery (discovery.ts) at every connect (first, so `online` names configured entities; configs left by an
// earlier run for rules gone since are removed) and when the rules change. Everything is QoS 1: a message
// is delivered when the broker acknowledged each of its publishes; while the broker is away deliveries fail fast
// and the outbox retries them.
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { MqttChannelConfig } from '../../config/notify.ts';
import type { Rule } from '../../config/rule.ts';
import type { Logger } from '../log.ts';
import type { NotifyPolicy } from '../store/outbox.ts';
import { discoveryConfigs, topicsUnder, type Topics } from './discovery.ts';
import type { CameraRef, Channel, EventMedia, OutboxMessage } from './types.ts';

const PUBLISH_TIMEOUT_MS = 10_000;
/** How long retained discovery configs are read after subscribing (the broker sends them at once). */
const RETAINED_WAIT_MS = 500;
/** The entity types discovery.ts publishes. */
const DISCOVERY_COMPONENTS = ['binary_sensor', 'image'];

export class MqttChannel implements Channel {
  readonly type = 'mqtt';
  readonly id: string;
  readonly topics: Topics;
  #client: MqttClient | null = null;
  /** Discovery topics published by this process (an entity gone from the config is removed with an empty payload). */
  #discovered = new Set<string>();
  #rules: readonly Rule[] = [];
  #cameras: readonly CameraRef[] = [];

  constructor(
    private readonly cfg: MqttChannelConfig,
    private readonly media: EventMedia,
    private readonly policy: NotifyPolicy,
    private readonly log: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.id = cfg.id;
    this.topics = topicsUnder(cfg.topicPrefix);
  }

  /** Connects in the background: a broker that is down is retried every few seconds, never a start failure. */
  async start(): Promise<void> {
    const client = mqtt.connect(this.cfg.url, this.options());
    client.on('error', (err) => this.log.warn({ channel: this.id, err: err.message }, 'MQTT broker error'));
    client.on('connect', () => {
      this.log.info({ channel: this.id }, 'MQTT broker connected');
      void this.announce().catch((err: unknown) => this.log.warn({ channel: this.id, err: String(err) }, 'could not publish availability and discovery'));
    });
    client.on('offline', () => this.log.warn({ channel: this.id }, 'MQTT broker unreachable; messages wait in the outbox'));
    this.#client = client;
  }

  private options(): IClientOptions {
    const user = this.cfg.usernameEnv ? this.env[this.cfg.usernameEnv] : undefined;
    const password = this.cfg.passwordEnv ? this.env[this.cfg.passwordEnv] : undefined;
    const tls = this.cfg.tls;
    return {
      clientId: this.cfg.clientId ?? `vigil-${this.id}`,
      clean: true,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
      queueQoSZero: false,
      ...(user !== undefined ? { username: user } : {}),
      ...(password !== undefined ? { password } : {}),
      will: { topic: this.topics.available, payload: Buffer.from('offline'), qos: 1, retain: true },
      ...(tls
        ? {
            rejectUnauthorized: tls.rejectUnauthorized,
            ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
            ...(tls.certFile ? { cert: readFileSync(tls.certFile) } : {}),
            ...(tls.keyFile ? { key: readFileSync(tls.keyFile) } : {}),
          }
        : {}),
    };
  }

  /** Discovery, then availability, at every connect: `online` means the entities it names are configured. */
  private async announce(): Promise<void> {
    if (this.cfg.discovery.enabled) await this.adoptRetained();
    await this.publishDiscovery();
    await this.publish(this.topics.available, 'online', true);
  }

  /** The discovery configs this channel left retained in earlier runs join the ones it knows of, so those of
   *  rules removed while Vigil was down are removed too. Read back from the broker: it sends retained messages
   *  right after the subscription's acknowledgement. Another program's configs are never touched. */
  private async adoptRetained(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    const filters = DISCOVERY_COMPONENTS.map((c) => `${this.cfg.discovery.prefix}/${c}/+/config`);
    const found: string[] = [];
    const onMessage = (topic: string, payload: Buffer, packet: { retain?: boolean }) => {
      if (packet.retain && payload.length && this.isOurs(payload)) found.push(topic);
    };
    client.on('message', onMessage);
    try {
      await client.subscribeAsync(filters, { qos: 1 });
      await new Promise((r) => setTimeout(r, RETAINED_WAIT_MS));
      await client.unsubscribeAsync(filters);
    } finally {
      client.off('message', onMessage);
    }
    for (const t of found) this.#discovered.add(t);
  }

  /** A discovery config written by this channel: Vigil's origin, this channel's availability topic and unique id. */
  private isOurs(payload: Buffer): boolean {
    try {
      const c = JSON.parse(payload.toString('utf8')) as { origin?: { name?: unknown }; availability_topic?: unknown; unique_id?: unknown };
      return c.origin?.name === 'Vigil' && c.availability_topic === this.topics.available && typeof c.unique_id === 'string' && c.unique_id.endsWith(`_${this.id}`);
    } catch {
      return false;
    }
  }

  setRules(rules: readonly Rule[], cameras: readonly CameraRef[]): void {
    this.#rules = rules;
    this.#cameras = cameras;
    if (this.#client?.connected) void this.publishDiscovery().catch((err: unknown) => this.log.warn({ channel: this.id, err: String(err) }, 'could not publish discovery'));
  }

  /** Publishes the discovery configs of every (rule, camera) that notifies this channel; removes the ones gone. */
  async publishDiscovery(): Promise<void> {
    if (!this.cfg.discovery.enabled) return;
    const now = new Map<string, Record<string, unknown>>();
    for (const rule of this.#rules) {
      if (!rule.enabled) continue;
      for (const camera of this.#cameras) {
        if (rule.cameras !== 'all' && !rule.cameras.includes(camera.id)) continue;
        if (!this.policy.targets(rule, camera.id).some((t) => t.channel === this.id)) continue;
        for (const [topic, config] of discoveryConfigs(this.cfg.discovery.prefix, this.topics, { rule, camera }, this.id)) now.set(topic, config);
      }
    }
    for (const [topic, config] of now) await this.publish(topic, JSON.stringify(config), true);
    for (const gone of [...this.#discovered].filter((t) => !now.has(t))) await this.publish(gone, '', true);
    this.#discovered = new Set(now.keys());
  }

  async deliver(m: OutboxMessage): Promise<void> {
    if (!this.#client?.connected) throw new Error(`MQTT broker ${redactUrl(this.cfg.url)} not connected`);
    const { event, before } = m.payload;
    await this.publish(this.topics.events, JSON.stringify({ id: m.id, type: m.kind, before, after: event }), false);
    if (m.kind === 'opened' || (m.kind === 'updated' && before?.bestPdt !== event.bestPdt)) {
      const jpeg = await this.media.jpeg(event.id, 'snapshot');
      if (jpeg) await this.publish(this.topics.snapshot(event.camera, event.rule), jpeg, true);
    }
    await this.publish(this.topics.state(event.camera, event.rule), m.kind === 'closed' ? 'OFF' : 'ON', true);
  }

  private async publish(topic: string, payload: string | Buffer, retain: boolean): Promise<void> {
    const client = this.#client;
    if (!client) throw new Error('MQTT channel not started');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`MQTT publish to ${topic} not acknowledged within ${PUBLISH_TIMEOUT_MS / 1000} s`)), PUBLISH_TIMEOUT_MS);
    });
    try {
      await Promise.race([client.publishAsync(topic, payload, { qos: 1, retain }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Says offline (retained) and disconnects; idempotent. */
  async close(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    if (!client) return;
    if (client.connected) {
      await Promise.race([client.publishAsync(this.topics.available, 'offline', { qos: 1, retain: true }), new Promise((r) => setTimeout(r, 2000))]).catch(() => undefined);
    }
    await client.endAsync(true).catch(() => undefined);
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}
