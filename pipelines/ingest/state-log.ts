// One log line per camera state change, with its reason, so failures are never silent (warn for offline), and
// repeats rate-limited: a camera failing the same way every few seconds logs once per window, then a line that
// says how many repeats were left out. The stderr tail goes with the first line of each new offline reason.
import type { Logger } from '../log.ts';
import type { CameraState } from './types.ts';

export interface StateLogOptions {
  /** The same offline reason is logged at most once per this window. */
  repeatWindowMs?: number;
  /** Extra fields for a logged offline line (the scrubbed ffmpeg stderr tail). */
  detail?: () => Record<string, unknown>;
  now?: () => number;
}

export const REPEAT_WINDOW_MS = 60_000;

export class StateChangeLog {
  readonly #log: Logger;
  readonly #window: number;
  readonly #detail: () => Record<string, unknown>;
  readonly #now: () => number;
  /** The offline reason last written, when, and how many repeats of it were left out since. */
  #reason: string | null = null;
  #loggedAt = 0;
  #suppressed = 0;

  constructor(log: Logger, opts: StateLogOptions = {}) {
    this.#log = log;
    this.#window = opts.repeatWindowMs ?? REPEAT_WINDOW_MS;
    this.#detail = opts.detail ?? (() => ({}));
    this.#now = opts.now ?? Date.now;
  }

  /** `requested`: the change comes from close() (an operator's stop, not a failure). */
  change(state: CameraState, reason: string | null, requested = false): void {
    // The first attempt is news; a retry after an offline line is not (that line said it failed).
    if (state === 'connecting') return this.#reason === null ? this.#log.info({ state }, 'camera connecting') : this.#log.debug({ state }, 'camera connecting (retry)');
    if (state === 'offline' && !requested) return this.#offline(reason ?? 'unknown');
    const fields = { state, ...(reason ? { reason } : {}), ...this.#flush() };
    this.#reason = null;
    this.#log.info(fields, `camera ${state}${reason ? `: ${reason}` : ''}${suffix(fields.suppressed)}`);
  }

  #offline(reason: string): void {
    const now = this.#now();
    if (reason === this.#reason && now - this.#loggedAt < this.#window) {
      this.#suppressed++;
      return;
    }
    const fields = { state: 'offline', reason, ...this.#flush(), ...this.#detail() };
    this.#reason = reason;
    this.#loggedAt = now;
    this.#log.warn(fields, `camera offline: ${reason}${suffix(fields.suppressed)}`);
  }

  /** The count of left-out repeats of the last reason, reset. */
  #flush(): { suppressed?: number } {
    const n = this.#suppressed;
    this.#suppressed = 0;
    return n ? { suppressed: n } : {};
  }
}

function suffix(suppressed: number | undefined): string {
  return suppressed ? ` (${suppressed} repeat${suppressed === 1 ? '' : 's'} of the previous offline line suppressed)` : '';
}
