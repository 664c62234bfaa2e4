// Reading other processes through /proc (Linux): identity that survives pid reuse, parent, command line.
// Every function answers null (unknown) where /proc is missing or the process is gone.
import { readFileSync, readlinkSync } from 'node:fs';

/** A process's start time in clock ticks since boot: with its pid, an identity that pid reuse cannot fake. */
export function startTimeOf(pid: number): string | null {
  const stat = readStat(pid);
  return stat ? (stat[19] ?? null) : null; // field 22 of /proc/<pid>/stat; index 19 after "pid (comm) "
}

export function parentOf(pid: number): number | null {
  const stat = readStat(pid);
  return stat ? Number(stat[1]) : null;
}

/** Whether the process runs (a zombie has exited). */
export function isRunning(pid: number): boolean {
  const stat = readStat(pid);
  if (stat) return stat[0] !== 'Z';
  try {
    process.kill(pid, 0);
    return process.platform !== 'linux'; // on Linux, no /proc entry means gone
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function commandLineOf(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return null;
  }
}

export function cwdOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}

/** The fields after "pid (comm) ": state, ppid, ... (comm may contain spaces and parentheses). */
function readStat(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}
