// A Vigil that crashed (or was killed with -9 where children cannot be tied to its life) can leave ffmpeg running,
// still writing into the data folder. Once the data folder lock is ours, no live Vigil owns those processes: any
// ffmpeg writing under <dataDir> is a leftover and is ended before the cameras start.
import { resolve } from 'node:path';
import { readdirSync } from 'node:fs';
import { commandLineOf, cwdOf, isRunning } from './proc.ts';

/** Pids of ffmpeg processes (other than ours) with an output or input path inside `dataDir` (Linux; [] elsewhere). */
export function findLeftovers(dataDir: string): number[] {
  const root = resolve(dataDir) + '/';
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  return entries.map(Number).filter((pid) => pid !== process.pid && writesInto(pid, root));
}

function writesInto(pid: number, root: string): boolean {
  const argv = commandLineOf(pid);
  if (!argv?.length || !/(^|\/)ffmpeg$/.test(argv[0]!)) return false;
  const cwd = cwdOf(pid) ?? '/';
  return argv.slice(1).some((a) => !a.startsWith('-') && a.includes('/') && resolve(cwd, a).startsWith(root));
}

/** SIGTERM to each leftover (ffmpeg closes its playlist), SIGKILL to those still running after `graceMs`. */
export async function endLeftovers(dataDir: string, graceMs = 3000): Promise<number[]> {
  const pids = findLeftovers(dataDir);
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(isRunning) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids.filter(isRunning)) signal(pid, 'SIGKILL');
  return pids;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone already, or not ours to signal */
  }
}
