// A latest-frame slot with capacity 1: analysis always works on the newest frame, and every frame that was
// overwritten before a consumer took it is counted, so a slow engine shows up as drops instead of lag.
import type { Frame } from './types.ts';

export class FrameSlot {
  #frame: Frame | null = null;
  #dropped = 0;

  /** Stores `frame`, replacing (and counting) any frame nobody took. */
  put(frame: Frame): void {
    if (this.#frame) this.#dropped++;
    this.#frame = frame;
  }

  /** Removes and returns the newest frame, or null when none arrived since the last take. */
  take(): Frame | null {
    const f = this.#frame;
    this.#frame = null;
    return f;
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
