// When to try a failing camera again, and what to tell the operator meanwhile. The normal policy retries fast (a
// camera rebooting is back in seconds); authentication failures slow down to minutes after a few in a row, because
// many NVRs lock the account after 5-7 wrong passwords, and the reason says so.
import type { AuthBackoffPolicy, BackoffPolicy } from '../../config/schema.ts';
import { escalatedDelay, nextFailureCount, restartDelay } from '../backoff.ts';
import { reasonOf, type Failure } from './exit-reason.ts';

export interface RestartStep {
  delayMs: number;
  /** The offline reason to show until the next try. */
  reason: string;
}

export class RestartPlan {
  #failures = 0;
  #authFailures = 0;

  constructor(
    private readonly backoff: BackoffPolicy,
    private readonly auth: AuthBackoffPolicy,
  ) {}

  /** A run (or a probe) ended with `f` after being live for `liveMs` (0 when it never produced a frame). */
  next(f: Failure, liveMs: number): RestartStep {
    this.#failures = nextFailureCount(this.backoff, this.#failures, liveMs);
    // Only a working connection clears the count: NVRs count wrong passwords across other failures too.
    if (liveMs > 0) this.#authFailures = 0;
    if (f.kind === 'auth') this.#authFailures++;
    const slow = f.kind === 'auth' ? escalatedDelay(this.auth, this.#authFailures) : 0;
    const delayMs = Math.max(restartDelay(this.backoff, this.#failures), slow);
    if (slow === 0) return { delayMs, reason: reasonOf(f) };
    return { delayMs, reason: `${f.what} ${this.#authFailures} times; next try in ${formatDelay(delayMs)}: ${f.advice}` };
  }
}

/** "45 s", "5 min", "1 h 30 min": a delay as an operator reads it. */
export function formatDelay(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  return min % 60 ? `${Math.floor(min / 60)} h ${min % 60} min` : `${min / 60} h`;
}
