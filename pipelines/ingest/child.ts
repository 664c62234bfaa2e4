// Spawning ffmpeg and ffprobe so that they can neither crash Vigil nor outlive it.
// - A permanent 'error' listener on the child and its pipes: a spawn failure (ENOENT) or an EPIPE is reported to
//   the caller, never an uncaught exception.
// - Tied to Vigil's life: on Linux the child is started through util-linux `setpriv --pdeathsig`, so the kernel
//   sends it SIGTERM the moment Vigil dies, even by `kill -9`, in every phase (connecting, probing, live). A pipe
//   alone is not enough: ffmpeg ignores SIGPIPE and only notices a closed stdout at its next sampled frame
//   (a sampling interval later), and never while it is still connecting. setpriv execs the child, so the pid,
//   signals and exit status are ffmpeg's own. Where setpriv is missing, the child is spawned directly and the next
//   `vigil serve` on the data folder ends any leftover (server/lifecycle/leftovers.ts).
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const SETPRIV = 'setpriv';
let tieSupported: boolean | null = null;

/** Whether children can be tied to this process's life here (checked once). */
export function canTieToParent(): boolean {
  if (tieSupported === null) {
    const r = spawnSync(SETPRIV, ['--pdeathsig', 'TERM', '--', 'true'], { stdio: 'ignore', timeout: 5000 });
    tieSupported = r.status === 0;
  }
  return tieSupported;
}

/** The command and arguments that start `cmd` so that it receives SIGTERM when this process dies. */
export function tiedCommand(cmd: string, args: readonly string[]): [string, string[]] {
  // A missing program is spawned directly so its ENOENT stays a spawn error (setpriv would exit 127 instead).
  if (!canTieToParent() || !executable(cmd)) return [cmd, [...args]];
  return [SETPRIV, ['--pdeathsig', 'TERM', '--', cmd, ...args]];
}

function executable(cmd: string): boolean {
  const candidates = cmd.includes('/') ? [cmd] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, cmd));
  return candidates.some((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Spawns `cmd` tied to this process's life, with permanent 'error' listeners on the child and its pipes that hand
 * every error to `onError` (which must not throw).
 */
export function spawnChild(cmd: string, args: readonly string[], opts: SpawnOptions, onError: (err: Error) => void): ChildProcess {
  const [file, argv] = tiedCommand(cmd, args);
  const child = spawn(file, argv, opts);
  child.on('error', onError);
  for (const stream of child.stdio) stream?.on('error', onError);
  return child;
}
