// `vigil serve --config <file>` as a real child process, the way a user starts it: its terminal output, its
// dashboard URL, /api/health, its children (ffmpeg, the engine worker), and a stop that waits for the exit.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { HealthInfo } from '../../server/wire.ts';
import type { VigilConfigInput } from '../../config/schema.ts';

export interface VigilProcess {
  proc: ChildProcess;
  url: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  health(): Promise<HealthInfo>;
  /** Resolves with the exit code (null after a signal). */
  exited: Promise<number | null>;
  /** Signals it (default SIGTERM) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Writes `config` as YAML into `dir` and starts `vigil serve --config` on it (port 0). */
export async function startVigil(dir: string, config: VigilConfigInput, env: Record<string, string> = {}): Promise<VigilProcess> {
  const file = join(dir, 'vigil.yaml');
  writeFileSync(file, stringify({ ...config, server: { port: 0, dataDir: join(dir, 'data'), ...config.server } }));
  const proc = spawn(process.execPath, ['bin/vigil.mjs', 'serve', '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VIGIL_LOG_LEVEL: 'info', VITEST: '', ...env },
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  proc.on('error', () => {}); // a spawn failure shows as the missing URL below
  const exited = new Promise<number | null>((done) => proc.once('exit', (code) => done(code)));
  const url = await Promise.race([
    poll(async () => /Vigil dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1], 30_000, 'the dashboard URL'),
    exited.then((code) => {
      throw new Error(`vigil serve exited (${code}) before it listened:\n${out}`);
    }),
  ]);
  return {
    proc,
    url,
    output: () => out,
    exited,
    health: async () => (await (await fetch(new URL('/api/health', url))).json()) as HealthInfo,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

export async function poll<T>(fn: () => Promise<T | undefined | null | false>, ms: number, what: string, everyMs = 100): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

/** The engine worker among a process's children (its command line names local-worker.ts). */
export function engineWorkerPid(pid: number): number | undefined {
  return childPids(pid).find((c) => {
    try {
      return readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('local-worker');
    } catch {
      return false;
    }
  });
}
