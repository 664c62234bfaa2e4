// A typed emitter whose listeners cannot hurt the emitter or each other: a throwing (or rejecting)
// listener is logged and skipped, the remaining listeners still run. One camera's or one socket's
// fault must never reach the ingest loop that emitted the event.
import type { Logger } from './log.ts';

/** Event name -> listener arguments. An interface without an index signature fits (`{ frame: [Frame] }`). */
export type EventMap<E> = { [K in keyof E]: unknown[] };
type Listener<A extends unknown[]> = (...args: A) => unknown;

export class SafeEmitter<E extends EventMap<E>> {
  private readonly listeners: { [K in keyof E]?: Set<Listener<E[K]>> } = {};

  constructor(private readonly emitterLog: Logger) {}

  on<K extends keyof E>(event: K, fn: Listener<E[K]>): () => void {
    const set = (this.listeners[event] ??= new Set());
    set.add(fn);
    return () => set.delete(fn);
  }

  off<K extends keyof E>(event: K, fn: Listener<E[K]>): void {
    this.listeners[event]?.delete(fn);
  }

  /** Drops every listener (a closed emitter keeps no references to its consumers). */
  removeAllListeners(): void {
    for (const key of Object.keys(this.listeners) as (keyof E)[]) delete this.listeners[key];
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    for (const fn of this.listeners[event] ?? []) {
      try {
        const r = fn(...args);
        if (r instanceof Promise) r.catch((err: unknown) => this.listenerFailed(event, err));
      } catch (err) {
        this.listenerFailed(event, err);
      }
    }
  }

  private listenerFailed(event: keyof E, err: unknown): void {
    this.emitterLog.error({ event: String(event), err }, 'event listener threw; isolated');
  }
}
