// Webhook channel: one POST per message, signed with the Standard Webhooks scheme through its own library
// (webhook-id = the message id, stable across retries, so a receiver drops a duplicate by id; webhook-timestamp;
// webhook-signature = v1,base64(HMAC-SHA256(id.timestamp.body))). Only a 2xx counts as delivered.
import { Webhook } from 'standardwebhooks';
import type { WebhookChannelConfig } from '../../config/notify.ts';
import type { Logger } from '../log.ts';
import type { Channel, EventMedia, OutboxMessage } from './types.ts';

export interface WebhookBody {
  /** event.opened | event.updated | event.closed */
  type: string;
  /** ISO time the message was written (the event change committed). */
  timestamp: string;
  data: {
    message: OutboxMessage['kind'];
    event: OutboxMessage['payload']['event'];
    before: OutboxMessage['payload']['before'];
    rule: { id: string; name: string; version: number; severity: string; prompt: string };
    links: ReturnType<EventMedia['links']>;
    /** Base64 JPEG thumbnail (channel option `thumbnail`). */
    thumbnail?: string;
  };
}

export class WebhookChannel implements Channel {
  readonly type = 'webhook';
  readonly id: string;
  readonly #signer: Webhook | null;
  readonly #problem: string | null;

  constructor(
    private readonly cfg: WebhookChannelConfig,
    private readonly media: EventMedia,
    private readonly log: Logger,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.id = cfg.id;
    const secret = env[cfg.secretEnv];
    let signer: Webhook | null = null;
    let problem: string | null = null;
    if (!secret) problem = `environment variable ${cfg.secretEnv} is not set: set it to the signing secret shared with the receiver ("whsec_" + base64) and restart`;
    else {
      try {
        signer = new Webhook(secret);
      } catch (err) {
        problem = `the secret in ${cfg.secretEnv} is not a Standard Webhooks secret ("whsec_" + base64 of random bytes): ${(err as Error).message}`;
      }
    }
    this.#signer = signer;
    this.#problem = problem;
  }

  async start(): Promise<void> {
    if (this.#problem) this.log.error({ channel: this.id }, `webhook channel "${this.id}": ${this.#problem}; its messages wait in the outbox`);
  }

  async body(m: OutboxMessage): Promise<WebhookBody> {
    const e = m.payload.event;
    const data: WebhookBody['data'] = {
      message: m.kind,
      event: e,
      before: m.payload.before,
      rule: { id: e.rule, name: e.ruleName, version: e.ruleVersion, severity: e.severity, prompt: e.prompt },
      links: this.media.links(e.id, e.recording, e.camera),
    };
    if (this.cfg.thumbnail) {
      const jpeg = await this.media.jpeg(e.id, 'thumbnail');
      if (jpeg) data.thumbnail = jpeg.toString('base64');
    }
    return { type: `event.${m.kind}`, timestamp: new Date(m.createdAt).toISOString(), data };
  }

  async deliver(m: OutboxMessage): Promise<void> {
    if (!this.#signer) throw new Error(this.#problem!);
    const body = JSON.stringify(await this.body(m));
    const at = new Date();
    const res = await fetch(this.cfg.url, {
      method: 'POST',
      redirect: 'error',
      signal: AbortSignal.timeout(this.cfg.timeout * 1000),
      headers: {
        ...this.cfg.headers,
        'content-type': 'application/json',
        'user-agent': 'Vigil-Webhook',
        'webhook-id': m.id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': this.#signer.sign(m.id, at, body),
      },
      body,
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status > 299) throw new Error(`receiver answered HTTP ${res.status}`);
  }

  async close(): Promise<void> {}
}
