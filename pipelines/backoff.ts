// Backoff as data read by one pure function, shared by every stage that retries (camera restarts, engine
// worker restarts, remote engine retries), so policy changes never touch control flow.
import type { AuthBackoffPolicy, BackoffPolicy } from '../config/schema.ts';

/**
 * Delay before the next restart. `failures` counts consecutive runs that ended without staying live for
 * `policy.resetAfterMs` (1 for the first restart).
 */
export function restartDelay(policy: Pick<BackoffPolicy, 'initialMs' | 'maxMs' | 'factor'>, failures: number): number {
  if (failures <= 0) return 0;
  const delay = policy.initialMs * policy.factor ** (failures - 1);
  return Math.min(policy.maxMs, Math.round(delay));
}

/** Failure count after a run ended: a run that stayed live long enough starts the sequence over. */
export function nextFailureCount(policy: BackoffPolicy, failures: number, liveMs: number): number {
  return liveMs >= policy.resetAfterMs ? 1 : failures + 1;
}

/**
 * Extra delay for a failure that fast retries make worse (a wrong password: many NVRs lock the account after 5-7
 * failures): none for the first `freeRetries` failures in a row, then the policy's growing delays (minutes).
 */
export function escalatedDelay(policy: Pick<AuthBackoffPolicy, 'freeRetries' | 'initialMs' | 'maxMs' | 'factor'>, failures: number): number {
  return failures <= policy.freeRetries ? 0 : restartDelay(policy, failures - policy.freeRetries);
}
