// Runs async operations one at a time, in call order: a camera's sweeps, prunes and start-number reads never
// overlap, whichever timer or run started them. A failed operation rejects its caller, not the next one.
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #closing: Promise<void> | null = null;

  run<T>(op: () => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(new Error('closed: no more recording operations for this camera'));
    const result = this.#tail.then(op);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once the operations already queued are done; later `run` calls reject. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#tail.then(() => undefined);
    return this.#closing;
  }
}
