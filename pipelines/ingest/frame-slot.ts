// A latest-frame slot with capacity 1: analysis always works on the newest frame, and every frame that was
// overwritten before a consumer took it is counted, so a slow engine shows up as drops instead of lag.
// The consumer waits with `next()` (a promise that settles as soon as a frame is there) or polls with `take()`.
// Drops count only once a consumer has asked for a frame: a slot nobody reads is not "dropping" anything.
import type { Frame } from './types.ts';

interface Waiter {
  resolve: (f: Frame) => void;
  reject: (err: unknown) => void;
}

export class FrameSlot {
  #frame: Frame | null = null;
  #dropped = 0;
  #consumed = false;
  #waiters: Waiter[] = [];

  /** Stores `frame`, replacing (and counting) any frame nobody took; a waiting `next()` gets it at once. */
  put(frame: Frame): void {
    const waiter = this.#waiters.shift();
    if (waiter) return waiter.resolve(frame);
    if (this.#frame && this.#consumed) this.#dropped++;
    this.#frame = frame;
  }

  /** Removes and returns the newest frame, or null when none arrived since the last take. */
  take(): Frame | null {
    this.#consumed = true;
    const f = this.#frame;
    this.#frame = null;
    return f;
  }

  /**
   * The newest frame, taken from the slot: at once when one is waiting, otherwise as soon as one is put.
   * Rejects with the signal's reason when `signal` aborts first.
   */
  next(signal?: AbortSignal): Promise<Frame> {
    const f = this.take();
    if (f) return Promise.resolve(f);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (frame) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(frame);
        },
        reject,
      };
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  peek(): Frame | null {
    return this.#frame;
  }

  get dropped(): number {
    return this.#dropped;
  }

  /** Discards a waiting frame without counting it (e.g. its run ended). Returns whether one was waiting. */
  clear(): boolean {
    const had = this.#frame !== null;
    this.#frame = null;
    return had;
  }
}
