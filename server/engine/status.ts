// The vision engine as the server shows it (/api/health, the terminal): the engine's own state, 'pulling'
// while the default model downloads (with progress), and the error with what to do while it is failed or
// restarting. The engine stays the one source of truth; this only reads it.
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { VisionEngine } from '../../pipelines/engine/types.ts';
import type { EngineStatusSource } from '../http/api.ts';
import type { EngineHealth } from '../wire.ts';
import type { Logger } from '../log.ts';

export type PullProgress = NonNullable<EngineHealth['pull']>;

/** Log a line at every this many percent of the download ... */
const LOG_STEP_PERCENT = 10;
/** ... or after this long without one, whichever comes first (a slow link still shows it is moving). */
const LOG_EVERY_MS = 15_000;

/**
 * Follows the default model's download: the bytes for /api/health, and "pulled 40% (1.2 of 3.0 GB)" log lines
 * when no progress bar is drawn (stderr is not a TTY). `files` names what is being pulled: the pair's files
 * still missing when the download starts.
 */
export class PullReporter {
  private current: PullProgress | undefined;
  private complete = false;
  private loggedStep = -1;
  private loggedAt = 0;

  constructor(
    private readonly log: Logger,
    private readonly files: () => readonly string[],
    private readonly opts: { bar: boolean },
  ) {}

  /** The download under way, undefined before it starts and once it is complete. */
  get progress(): PullProgress | undefined {
    return this.complete ? undefined : this.current;
  }

  /** node-llama-cpp's progress callback (both files together). */
  readonly onProgress = (s: { totalSize: number; downloadedSize: number }): void => {
    const total = s.totalSize > 0 ? s.totalSize : null;
    if (!this.current) {
      const file = this.files().map((f) => basename(f)).join(', ');
      this.current = { file, bytes: 0, total };
      this.log.info({ files: file, bytes: total }, `pulling the default model (${file}${total ? `, ${formatBytes(total)}` : ''}); it resumes if interrupted`);
    }
    this.current = { ...this.current, bytes: s.downloadedSize, total };
    if (total !== null && s.downloadedSize >= total) {
      if (!this.complete) this.log.info({ bytes: total }, `pulled the default model (${formatBytes(total)})`);
      this.complete = true;
      return;
    }
    if (!this.opts.bar) this.logLine(s.downloadedSize, total);
  };

  private logLine(bytes: number, total: number | null): void {
    const percent = total ? Math.floor((bytes / total) * 100) : 0;
    const step = Math.floor(percent / LOG_STEP_PERCENT);
    if (step === this.loggedStep && Date.now() - this.loggedAt < LOG_EVERY_MS) return;
    this.loggedStep = step;
    this.loggedAt = Date.now();
    this.log.info({ bytes, total }, total ? `pulled ${percent}% (${formatPair(bytes, total)})` : `pulled ${formatBytes(bytes)}`);
  }
}

/** "1.2 of 3.0 GB": both in the total's unit. */
export function formatPair(bytes: number, total: number): string {
  const [div, unit] = unitOf(total);
  return `${(bytes / div).toFixed(1)} of ${(total / div).toFixed(1)} ${unit}`;
}

export function formatBytes(n: number): string {
  const [div, unit] = unitOf(n);
  return `${(n / div).toFixed(1)} ${unit}`;
}

function unitOf(n: number): [number, string] {
  if (n >= 1e9) return [1e9, 'GB'];
  if (n >= 1e6) return [1e6, 'MB'];
  return [1e3, 'KB'];
}

/** The files of a pair that do not exist yet (what a pull will fetch). */
export function missingOf(files: { model: string; mmproj: string }): string[] {
  return [files.model, files.mmproj].filter((f) => !existsSync(f));
}

/** What /api/health reads: the engine, with 'pulling' and the pull progress layered on while it downloads. */
export class EngineStatusView implements EngineStatusSource {
  constructor(
    private readonly engine: VisionEngine,
    private readonly pulling?: PullReporter,
  ) {}

  get state(): string {
    const s = this.engine.state;
    return s === 'starting' && this.pulling?.progress ? 'pulling' : s;
  }

  get info(): VisionEngine['info'] {
    return this.engine.info;
  }

  /** Why it is not answering and what to do: only while failed or restarting (a ready engine's old error is history). */
  get error(): EngineHealth['error'] {
    const s = this.engine.state;
    const e = this.engine.health.lastError;
    if ((s !== 'failed' && s !== 'restarting') || !e) return undefined;
    return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  }

  get pull(): PullProgress | undefined {
    return this.state === 'pulling' ? this.pulling?.progress : undefined;
  }
}
