// State and events shared by every VisionEngine: one place that changes `state` and tells listeners.
import type { Logger } from '../log.ts';
import { SafeEmitter } from '../safe-emitter.ts';
import { toFault, type EngineEvents, type EngineFault, type EngineState, type EngineStatus } from './types.ts';

export abstract class EngineLifecycle extends SafeEmitter<EngineEvents> {
  private current: EngineState = { status: 'idle', since: Date.now(), restarts: 0 };

  constructor(protected readonly log: Logger) {
    super(log);
  }

  /** The status alone (what `/api/health` shows first). */
  get state(): EngineStatus {
    return this.current.status;
  }

  /** Status with its time, the restart count and the last error. */
  get health(): EngineState {
    return { ...this.current };
  }

  protected get status(): EngineStatus {
    return this.current.status;
  }

  /** Moves to `status`, recording `error` as the last error when given, and emits `state`. */
  protected setStatus(status: EngineStatus, error?: unknown, restarts = this.current.restarts): EngineFault | undefined {
    const fault = error === undefined ? undefined : toFault(error);
    const lastError = fault ?? this.current.lastError;
    this.current = { status, since: Date.now(), restarts, ...(lastError ? { lastError } : {}) };
    this.emit('state', this.health);
    return fault;
  }
}
