// A real camera (testsrc through ffmpeg) recording into the SQLite store, with the recordings folder on another
// mount than the live HLS folder (/dev/shm vs the test data folder), killed with SIGKILL mid-recording and started
// again: segment numbers continue after everything recorded, every row has its file and every file its row, and no
// segment is lost except the one ffmpeg was writing at the kill.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openSqliteStore, storeFileIn } from '../../pipelines/store/index.ts';
import { segmentSeq } from '../../pipelines/ingest/paths.ts';
import { sleep } from './helpers.ts';

const REPO = resolve(import.meta.dirname, '../..');
let dataDir: string;
let shmDir: string;
let children: ChildProcess[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-reccrash-'));
  shmDir = mkdtempSync('/dev/shm/vigil-reccrash-');
  symlinkSync(shmDir, join(dataDir, 'recordings'));
  mkdirSync(join(dataDir, 'hls'), { recursive: true });
  expect(statSync(shmDir).dev).not.toBe(statSync(join(dataDir, 'hls')).dev);
});
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid!, 'SIGKILL');
  children = [];
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(shmDir, { recursive: true, force: true });
});

/** Starts the camera process in its own process group (so SIGKILL to the group takes its ffmpeg too). */
function startCamera(): { child: ChildProcess; startNumbers: number[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [join(REPO, 'bin/run-ts.mjs'), join(REPO, 'test/support/camera-child.ts')], {
    env: { ...process.env, DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  children.push(child);
  child.on('error', () => {});
  const startNumbers: number[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; buf = buf.slice(i + 1), i = buf.indexOf('\n')) {
      const line = JSON.parse(buf.slice(0, i)) as { msg?: string; startNumber?: number };
      if (line.msg === 'ffmpeg run started') startNumbers.push(line.startNumber!);
    }
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, startNumbers, exited };
}

function rowCount(): number {
  try {
    const db = new Database(storeFileIn(dataDir), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("SELECT COUNT(*) AS n FROM recordings WHERE camera = 'cam'").get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

async function waitForRows(n: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (rowCount() < n) {
    if (Date.now() > until) throw new Error(`only ${rowCount()} recorded segments after ${timeoutMs} ms (wanted ${n})`);
    await sleep(200);
  }
}

it('survives kill -9 while recording across mounts: numbers continue, index and folders agree', async () => {
  const first = startCamera();
  await waitForRows(6, 60_000);
  await sleep(300); // somewhere inside the next segment / sweep
  process.kill(-first.child.pid!, 'SIGKILL');
  await first.exited;
  const recordedBefore = rowCount();

  const second = startCamera();
  await waitForRows(recordedBefore + 4, 60_000);
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);

  const store = await openSqliteStore({ file: storeFileIn(dataDir) });
  try {
    const rows = await store.recordings.list('cam');
    const recDir = join(shmDir, 'cam');
    const files = readdirSync(recDir);
    expect(files.filter((f) => !f.startsWith('seg-'))).toEqual([]); // no .partial left
    expect(files.sort()).toEqual(rows.map((r) => r.file).sort());
    for (const r of rows) expect(statSync(join(recDir, r.file)).size).toBe(r.bytes);
    const [start] = second.startNumbers;
    const before = rows.filter((r) => r.seq < start!);
    expect(before.length).toBeGreaterThanOrEqual(recordedBefore);
    expect(start).toBeGreaterThan(Math.max(...before.map((r) => r.seq)));
    const live = readdirSync(join(dataDir, 'hls', 'cam')).map(segmentSeq).filter((s): s is number => s !== null);
    expect(live.every((s) => s >= start!)).toBe(true); // the killed run's leftovers were all retired
    const have = new Set([...rows.map((r) => r.seq), ...live]);
    const max = Math.max(...have);
    const missing = Array.from({ length: max + 1 }, (_, i) => i).filter((s) => !have.has(s));
    expect(missing.length, `missing segments ${missing.join(', ')}`).toBeLessThanOrEqual(1); // the one being written at the kill
  } finally {
    await store.close();
  }
}, 150_000);
