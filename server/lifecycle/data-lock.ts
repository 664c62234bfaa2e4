// One Vigil per data folder: two would prune each other's segments and fight over the recording index.
// `<dataDir>/vigil.lock` holds the owner's pid and start time; a second `vigil serve` refuses with a clear error,
// and a lock left by a process that is gone (a crash, `kill -9`) is taken over. On this machine the pid and its start
// time tell; for an owner on another machine (a shared folder) or a previous container (new hostname, same volume),
// the owner's heartbeat does: it touches the lock every HEARTBEAT_MS, and a lock untouched for STALE_MS is stale.
import { closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isRunning, startTimeOf } from './proc.ts';

export const LOCK_FILE = 'vigil.lock';
export const HEARTBEAT_MS = 10_000;
export const STALE_MS = 3 * HEARTBEAT_MS;

export interface LockOwner {
  pid: number;
  /** /proc start time of the owner, so a reused pid is not mistaken for it (null off Linux). */
  startTime: string | null;
  host: string;
  since: string;
}

export class DataFolderBusyError extends Error {
  readonly code = 'DATA_DIR_IN_USE';
  readonly hint: string;
  constructor(
    readonly dataDir: string,
    readonly owner: LockOwner,
  ) {
    super(`the data folder ${dataDir} is in use by another Vigil (pid ${owner.pid}, running since ${owner.since})`);
    this.hint = `stop that Vigil first (kill ${owner.pid}), or give this one its own folder with --data <dir>`;
  }
}

export interface DataLock {
  path: string;
  /** The dead owner whose lock was taken over, if any (a crash left it). */
  tookOverFrom: LockOwner | null;
  /** Removes the lock if it is still ours; idempotent. */
  release(): void;
}

export function acquireDataLock(dataDir: string): DataLock {
  const path = join(dataDir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, startTime: startTimeOf(process.pid), host: hostname(), since: new Date().toISOString() };
  let tookOverFrom: LockOwner | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (create(path, me)) return lockHandle(path, me, tookOverFrom);
    const owner = readOwner(path);
    if (owner && isAlive(owner, path)) throw new DataFolderBusyError(dataDir, owner);
    if (owner || attempt > 0) tookOverFrom = owner ?? tookOverFrom; // unreadable on the first look: maybe mid-write
    if (owner || attempt > 0) takeOver(path);
  }
  throw new Error(`could not lock the data folder ${dataDir} (${path} keeps changing)`);
}

function create(path: string, me: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(me) + '\n');
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Moves a stale lock aside (rename is atomic: of two Vigils taking over at once only one moves it) and drops it,
 * unless what was moved turns out to be a live owner's fresh lock, which is put back.
 */
function takeOver(path: string): void {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = readOwner(aside);
  if (moved && isAlive(moved, aside)) renameSync(aside, path);
  else unlinkSync(aside);
}

function readOwner(path: string): LockOwner | null {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    return typeof o.pid === 'number' ? { pid: o.pid, startTime: o.startTime ?? null, host: o.host ?? '?', since: o.since ?? '?' } : null;
  } catch {
    return null;
  }
}

function isAlive(owner: LockOwner, path: string): boolean {
  if (owner.host !== hostname()) return heartbeatFresh(path); // another machine or container: its pid means nothing here
  if (owner.pid === process.pid) return false;
  if (!isRunning(owner.pid)) return false;
  const now = startTimeOf(owner.pid);
  return owner.startTime === null || now === null || now === owner.startTime;
}

function heartbeatFresh(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs < STALE_MS;
  } catch {
    return false;
  }
}

function lockHandle(path: string, me: LockOwner, tookOverFrom: LockOwner | null): DataLock {
  let released = false;
  const beat = setInterval(() => {
    const now = new Date();
    try {
      if (readOwner(path)?.pid === me.pid) utimesSync(path, now, now);
    } catch {
      /* the folder went away: nothing to keep fresh */
    }
  }, HEARTBEAT_MS);
  beat.unref();
  const release = () => {
    if (released) return;
    released = true;
    clearInterval(beat);
    process.off('exit', release);
    if (readOwner(path)?.pid === me.pid) unlinkSync(path);
  };
  process.on('exit', release); // also when something calls process.exit()
  return { path, tookOverFrom, release };
}
