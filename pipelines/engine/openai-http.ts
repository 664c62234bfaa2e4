// HTTP plumbing of the OpenAI-compatible engine: the retry policy as data read by one pure function,
// a concurrency limiter, and the server's error message pulled out of its answer.
import { restartDelay } from '../backoff.ts';

export interface RetryPolicy {
  retries: number;
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Random share of each delay (0..1) so clients that failed together do not retry together. */
  jitter: number;
  /** Longest Retry-After honoured; longer waits are cut to this. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: Omit<RetryPolicy, 'retries'> = Object.freeze({
  initialMs: 500,
  maxMs: 8000,
  factor: 2,
  jitter: 0.2,
  maxRetryAfterMs: 60_000,
});

/** 429 and 5xx are worth another try; other statuses will fail the same way again. */
export const isRetriableStatus = (status: number) => status === 429 || status >= 500;

/**
 * Delay before retry number `attempt` (0 = first retry). A server's Retry-After (seconds or an HTTP date)
 * wins when longer than the backoff, up to `maxRetryAfterMs`.
 */
export function retryDelayMs(attempt: number, p: Omit<RetryPolicy, 'retries'>, retryAfter?: string | null, now = Date.now(), rand = Math.random): number {
  const base = restartDelay(p, attempt + 1);
  const backoff = base * (1 - p.jitter + p.jitter * rand());
  const server = parseRetryAfter(retryAfter, now);
  return Math.round(server === undefined ? backoff : Math.max(backoff, Math.min(server, p.maxRetryAfterMs)));
}

export function parseRetryAfter(v: string | null | undefined, now = Date.now()): number | undefined {
  if (!v) return undefined;
  const t = v.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const at = Date.parse(t);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The message an OpenAI-style server put in its error body ({error:{message}}, {message}, or text). */
export function serverMessage(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    const m = typeof j.error === 'string' ? j.error : (j.error?.message ?? j.message ?? j.detail);
    if (typeof m === 'string' && m) return m.slice(0, 500);
  } catch {
    /* not JSON */
  }
  return body.trim().slice(0, 300) || '(empty body)';
}

/** At most `limit` holders at once; waiting is abortable and first come, first served. */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(readonly limit: number) {
    if (!(Number.isInteger(limit) && limit > 0)) throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.active < this.limit) {
      this.active++;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal!.reason);
      };
      this.waiting.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else this.active--;
    };
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
