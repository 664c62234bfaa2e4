// The delivery worker: reads the outbox on its own (the rule loop only writes rows, so a receiver that is down
// never slows it), hands each due message to its channel in order, and records the attempt: sent on the
// receiver's acknowledgement, otherwise retried after the shared backoff (pipelines/backoff.ts) until
// `maxAttempts`, then dead-lettered (retriable through the API). Rows survive restarts: what was pending when
// Vigil stopped is delivered after the next start. At least once: a crash between the receiver's 2xx and the
// row's update resends the message with the same id.
import { restartDelay } from '../backoff.ts';
import type { NotifyConfig } from '../../config/notify.ts';
import type { Logger } from '../log.ts';
import type { KyselyOutbox } from '../store/outbox.ts';
import type { Channel, DeliveryMetrics, OutboxMessage } from './types.ts';

const IDLE_POLL_MS = 30_000;
const PRUNE_EVERY_MS = 3_600_000;

export type OutboxPort = Pick<KyselyOutbox, 'due' | 'nextDue' | 'pendingChannels' | 'sent' | 'failed' | 'pruneSent'>;

export interface DelivererOptions {
  outbox: OutboxPort;
  channels: readonly Channel[];
  config: Pick<NotifyConfig, 'maxAttempts' | 'backoff' | 'keepSentHours'>;
  metrics?: DeliveryMetrics;
  log: Logger;
}

export class Deliverer {
  readonly #channels: Map<string, Channel>;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #closed = false;
  #lastPrune = 0;

  constructor(private readonly o: DelivererOptions) {
    this.#channels = new Map(o.channels.map((c) => [c.id, c]));
  }

  /** Starts every channel, then delivers what is pending (rows left by an earlier run included). */
  async start(): Promise<void> {
    await Promise.all([...this.#channels.values()].map((c) => c.start()));
    this.kick();
  }

  /** New rows were committed (or a dead letter was put back): deliver now. */
  kick(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#running = this.pump().finally(() => {
      this.#running = null;
      if (this.#again) {
        this.#again = false;
        this.kick();
      } else void this.schedule();
    });
  }

  /** Resolves once the pump in flight (if any) is done. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  private async schedule(): Promise<void> {
    if (this.#closed) return;
    const next = await this.o.outbox.nextDue().catch(() => null);
    if (this.#closed || this.#running) return;
    const wait = next === null ? IDLE_POLL_MS : Math.min(IDLE_POLL_MS, Math.max(0, next - Date.now()));
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.kick(), wait);
    this.#timer.unref?.();
  }

  private async pump(): Promise<void> {
    try {
      await this.deadLetterUnknown();
      await Promise.all([...this.#channels.values()].map((c) => this.drain(c)));
      if (Date.now() - this.#lastPrune > PRUNE_EVERY_MS) {
        this.#lastPrune = Date.now();
        await this.o.outbox.pruneSent(Date.now() - this.o.config.keepSentHours * 3_600_000);
      }
    } catch (err) {
      if (!this.#closed) this.o.log.error({ err }, 'notification outbox could not be read; retrying');
    }
  }

  /** Delivers a channel's due messages in order; the first failure ends the batch (the receiver is likely down). */
  private async drain(channel: Channel): Promise<void> {
    for (;;) {
      const batch = await this.o.outbox.due(channel.id, Date.now(), 20);
      if (!batch.length || this.#closed) return;
      for (const m of batch) {
        if (this.#closed) return;
        if (!(await this.attempt(channel, m))) return;
      }
    }
  }

  private async attempt(channel: Channel, m: OutboxMessage): Promise<boolean> {
    if (m.attempts > 0) this.o.metrics?.retried(channel.id);
    try {
      await channel.deliver(m);
    } catch (err) {
      await this.fail(m, errorText(err));
      return false;
    }
    const now = Date.now();
    await this.o.outbox.sent(m.id, now);
    this.o.metrics?.sent(channel.id, Math.max(0, now - m.framePdt) / 1000);
    return true;
  }

  private async fail(m: OutboxMessage, error: string): Promise<void> {
    const attempts = m.attempts + 1;
    const dead = attempts >= this.o.config.maxAttempts;
    const now = Date.now();
    await this.o.outbox.failed(m.id, attempts, error, dead ? now : now + restartDelay(this.o.config.backoff, attempts), dead);
    this.o.metrics?.failed(m.channel);
    if (dead) {
      this.o.metrics?.dead(m.channel);
      this.o.log.error({ channel: m.channel, message: m.id, attempts, error }, 'notification dead-lettered (GET /api/notifications/dead; POST .../retry to send it again)');
    } else this.o.log.warn({ channel: m.channel, message: m.id, attempts, error }, 'notification not delivered; will retry');
  }

  /** Messages for a channel no longer configured can never go out: they go to the dead letters at once. */
  private async deadLetterUnknown(): Promise<void> {
    for (const channel of await this.o.outbox.pendingChannels()) {
      if (this.#channels.has(channel)) continue;
      // An event's later messages become due once the earlier ones are dead: repeat until none is left.
      for (let batch = await this.orphans(channel); batch.length; batch = await this.orphans(channel)) {
        for (const m of batch) {
          await this.o.outbox.failed(m.id, m.attempts, `channel "${channel}" is not configured (notify.channels)`, Date.now(), true);
          this.o.metrics?.dead(channel);
        }
      }
    }
  }

  private orphans(channel: string): Promise<OutboxMessage[]> {
    return this.o.outbox.due(channel, Number.MAX_SAFE_INTEGER, 500);
  }

  /**
   * Stops delivering, waits for the attempt in flight (at most 2 s: a hanging receiver must not hold the shutdown; an
   * attempt cut off here is not marked sent and goes again after the next start), closes the channels (MQTT says
   * offline); idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#running, new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
    await Promise.all([...this.#channels.values()].map((c) => c.close().catch(() => undefined)));
  }
}

function errorText(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ? `${e.message} (${e.cause.code})` : (e?.message ?? String(err));
}
