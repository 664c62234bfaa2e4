// Login failures counted per client address and per user name in a sliding window. Past the limit a login is
// refused before its password is checked (429 with Retry-After), so guessing costs the attacker time, not us
// scrypt work. A success clears the user's count (not the address's: one good account must not reset a
// guesser's budget for the others).
export interface LimitPolicy {
  windowMs: number;
  perUser: number;
  perAddress: number;
}

export const LOGIN_LIMITS: LimitPolicy = { windowMs: 15 * 60_000, perUser: 5, perAddress: 20 };

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly policy: LimitPolicy = LOGIN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until a login may be tried for this user from this address; 0 when allowed now. */
  retryAfter(user: string, address: string): number {
    return Math.max(this.wait(`u:${user.toLowerCase()}`, this.policy.perUser), this.wait(`a:${address}`, this.policy.perAddress));
  }

  fail(user: string, address: string): void {
    for (const key of [`u:${user.toLowerCase()}`, `a:${address}`]) this.failures.set(key, [...this.recent(key), this.now()]);
    if (this.failures.size > 10_000) this.prune();
  }

  succeed(user: string): void {
    this.failures.delete(`u:${user.toLowerCase()}`);
  }

  private wait(key: string, limit: number): number {
    const times = this.recent(key);
    if (times.length < limit) return 0;
    return Math.max(1, (times[times.length - limit] as number) + this.policy.windowMs - this.now());
  }

  private recent(key: string): number[] {
    const since = this.now() - this.policy.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > since);
  }

  private prune(): void {
    for (const key of [...this.failures.keys()]) if (this.recent(key).length === 0) this.failures.delete(key);
  }
}
