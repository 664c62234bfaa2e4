// The data folder lock: who counts as a live owner (pid + start time here, heartbeat for another host), takeover of
// stale locks, release only of our own lock.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireDataLock, DataFolderBusyError, LOCK_FILE, STALE_MS } from '../../server/lifecycle/data-lock.ts';
import { startTimeOf } from '../../server/lifecycle/proc.ts';

let dir: string;
let other: ChildProcess;
const writeLock = (o: Record<string, unknown>) => writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ host: hostname(), since: 'then', ...o }));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-lock-'));
  other = spawn('sleep', ['30'], { stdio: 'ignore' }); // stands in for another running Vigil
});
afterEach(() => {
  other.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('data folder lock', () => {
  it('writes our pid, and release removes it (idempotent)', () => {
    const lock = acquireDataLock(dir);
    expect(JSON.parse(readFileSync(lock.path, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    lock.release();
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
  });

  it('refuses while a live process owns it, naming its pid', () => {
    writeLock({ pid: other.pid, startTime: startTimeOf(other.pid!) });
    expect(() => acquireDataLock(dir)).toThrow(DataFolderBusyError);
    expect(() => acquireDataLock(dir)).toThrow(`is in use by another Vigil (pid ${other.pid}`);
  });

  it('takes over a dead owner, and a reused pid (other start time)', () => {
    writeLock({ pid: 999_999_999, startTime: '1' });
    const a = acquireDataLock(dir);
    expect(a.tookOverFrom?.pid).toBe(999_999_999);
    a.release();
    writeLock({ pid: other.pid, startTime: '1' }); // the pid is alive, but it is not the process that locked
    const b = acquireDataLock(dir);
    expect(b.tookOverFrom?.pid).toBe(other.pid);
    b.release();
  });

  it('an owner on another host counts while its heartbeat is fresh', () => {
    writeLock({ pid: 1, startTime: null, host: 'nas-client-2' });
    expect(() => acquireDataLock(dir)).toThrow(DataFolderBusyError);
    const old = (Date.now() - STALE_MS - 1000) / 1000;
    utimesSync(join(dir, LOCK_FILE), old, old);
    const lock = acquireDataLock(dir);
    expect(lock.tookOverFrom?.host).toBe('nas-client-2');
    lock.release();
  });

  it('release never removes a lock someone else took over', () => {
    const lock = acquireDataLock(dir);
    writeLock({ pid: other.pid, startTime: startTimeOf(other.pid!) });
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
  });
});
