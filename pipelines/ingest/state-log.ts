// One log line per camera state change, with its reason, so failures are never silent (warn for offline), and
// repeats rate-limited: a camera failing the same way every few seconds (or flapping live/offline) writes each
// line once per window; the next line written says how many were left out. Offline lines carry the stderr tail.
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
  /** When each kind of line (state + reason) was last written. */
  readonly #lastAt = new Map<string, number>();
  /** Lines left out since the last line written. */
  #suppressed = 0;
  /** An offline line is outstanding: the next connecting attempt is a retry, not news. */
  #failing = false;
  /** The last offline change was written: its recovery must be too, or the log would end on a stale "offline". */
  #offlineWritten = false;

  constructor(log: Logger, opts: StateLogOptions = {}) {
    this.#log = log;
    this.#window = opts.repeatWindowMs ?? REPEAT_WINDOW_MS;
    this.#detail = opts.detail ?? (() => ({}));
    this.#now = opts.now ?? Date.now;
  }

  /** `requested`: the change comes from close() (an operator's stop, not a failure). */
  change(state: CameraState, reason: string | null, requested = false): void {
    if (state === 'connecting') {
      if (this.#failing) return this.#log.debug({ state }, 'camera connecting (retry)');
      return this.#log.info({ state }, 'camera connecting');
    }
    const failed = state === 'offline' && !requested;
    this.#failing = failed;
    // A camera failing the same way, or flapping live/offline, repeats the same lines: write each once per window.
    const key = `${state}\n${reason ?? ''}`;
    const now = this.#now();
    const due = now - (this.#lastAt.get(key) ?? -Infinity) >= this.#window;
    const write = requested || due || (state !== 'offline' && this.#offlineWritten);
    if (state === 'offline' || write) this.#offlineWritten = state === 'offline' && write;
    if (!write) {
      this.#suppressed++;
      return;
    }
    this.#remember(key, now);
    const fields = { state, ...(reason ? { reason } : {}), ...this.#flush(), ...(failed ? this.#detail() : {}) };
    const msg = `camera ${state}${reason ? `: ${reason}` : ''}${suffix(fields.suppressed)}`;
    if (failed) this.#log.warn(fields, msg);
    else this.#log.info(fields, msg);
  }

  #remember(key: string, now: number): void {
    if (this.#lastAt.size > 50) for (const [k, at] of this.#lastAt) if (now - at >= this.#window) this.#lastAt.delete(k);
    this.#lastAt.set(key, now);
  }

  /** How many lines were left out since the last one written, reset. */
  #flush(): { suppressed?: number } {
    const n = this.#suppressed;
    this.#suppressed = 0;
    return n ? { suppressed: n } : {};
  }
}

function suffix(suppressed: number | undefined): string {
  return suppressed ? ` (${suppressed} repeated state line${suppressed === 1 ? '' : 's'} suppressed since the last one)` : '';
}
