// The vision engine of `vigil serve`: built from the config (pipelines/engine/create.ts) with the download
// progress wired to the terminal and /api/health, its state changes logged (and a failure spelled out for a
// person), and the decision whether the server starts it at all.
import type { EngineConfig } from '../../config/schema.ts';
import { createEngine } from '../../pipelines/engine/create.ts';
import { resolveModelFiles } from '../../pipelines/engine/models.ts';
import type { VisionEngine } from '../../pipelines/engine/types.ts';
import type { Logger } from '../log.ts';
import { EngineStatusView, PullReporter, missingOf } from './status.ts';

/** A rule as far as the engine decision cares: from the config file or the store alike. */
export interface RuleSwitch {
  readonly enabled: boolean;
}

/**
 * The engine runs when any rule, provisioned in the config or stored through the API, is enabled. Without one
 * nothing would ask it, and loading a model (or pulling 3 GB) for nothing is what a new user must not meet.
 */
export function engineNeeded(configRules: readonly RuleSwitch[], storedRules: readonly RuleSwitch[] = []): boolean {
  return configRules.some((r) => r.enabled) || storedRules.some((r) => r.enabled);
}

/**
 * Starts the engine in the background when the rules need it, without waiting: a failure is its state (health,
 * log), never the caller's. Call it again when rules change (an API edit enabling the first rule): start() is
 * idempotent while starting or ready, and tries again after a failure.
 */
export function startEngineWhenNeeded(engine: VisionEngine, configRules: readonly RuleSwitch[], storedRules: readonly RuleSwitch[], log: Logger): boolean {
  if (!engineNeeded(configRules, storedRules)) {
    if (engine.state === 'idle') log.info({ kind: engine.info.kind }, 'no rule is enabled: the vision engine stays idle');
    return false;
  }
  engine.start().catch((err: unknown) => log.debug({ err }, 'engine start failed (reported by its state)'));
  return true;
}

export interface ServerEngine {
  /** The engine the rule loop asks; not started (the server starts it when engineNeeded). */
  engine: VisionEngine;
  /** What /api/health shows (StartOptions.engine). */
  status: EngineStatusView;
}

export interface ServerEngineOptions {
  log: Logger;
  /** Draw a progress bar while pulling (a TTY); otherwise periodic log lines. */
  bar: boolean;
  /** Lines for a person on the terminal (a failure and what to do); default none. */
  print?: (line: string) => void;
}

export async function createServerEngine(config: EngineConfig, opts: ServerEngineOptions): Promise<ServerEngine> {
  const pulling = new PullReporter(opts.log, () => pullTargets(config), { bar: opts.bar });
  const engine = await createEngine(config, {}, { log: opts.log, onPullProgress: pulling.onProgress, showPullProgress: opts.bar });
  reportEngineState(engine, opts.log, opts.print);
  return { engine, status: new EngineStatusView(engine, pulling) };
}

function pullTargets(config: EngineConfig): string[] {
  try {
    return missingOf(resolveModelFiles(config.local));
  } catch {
    return [];
  }
}

/** Logs the engine's life; a failure also goes to `print` with the hint, since the server runs on without it. */
export function reportEngineState(engine: VisionEngine, log: Logger, print?: (line: string) => void): void {
  engine.on('ready', (info) => log.info({ kind: info.kind, model: info.model, device: info.device }, 'engine ready'));
  engine.on('restarting', (r) => log.warn({ attempt: r.attempt, delayMs: r.delayMs, code: r.error.code }, `engine restarting in ${r.delayMs} ms: ${r.error.message}`));
  engine.on('state', (s) => {
    if (s.status !== 'failed' || !s.lastError) return;
    const e = s.lastError;
    log.error({ code: e.code, hint: e.hint }, `the engine could not start: ${e.message}`);
    print?.(
      `vigil: the vision engine could not start [${e.code}]: ${e.message}\n` +
        (e.hint ? `  what to do: ${e.hint}\n` : '') +
        '  Video keeps running; rules are skipped until the engine runs. Vigil does not retry by itself: restart it once fixed.',
    );
  });
}
