// kill -9 in the middle of a recording sweep or prune, then start again: no segment lost, none orphaned, the index
// and the recordings folder agree. Runs the real keeper and real SQLite in a child process that pauses at a durable
// step (RetentionStep) and is killed there. Also with the recordings folder on another mount (EXDEV: /dev/shm is
// tmpfs, the test data folder is not), where the move is copy, fsync, rename into place, unlink.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, storeFileIn } from '../../pipelines/store/index.ts';

const REPO = resolve(import.meta.dirname, '../..');
const CHILD = join(REPO, 'test/support/retention-child.ts');
const N = 8;
const T0 = Date.parse('2026-11-25T10:00:00Z');

let dataDir: string;
let hlsDir: string;
let recDir: string;
let shmDir: string | null;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-crash-'));
  hlsDir = join(dataDir, 'hls', 'cam');
  recDir = join(dataDir, 'recordings', 'cam');
  shmDir = null;
  mkdirSync(hlsDir, { recursive: true });
  for (let s = 0; s < N; s++) writeFileSync(join(hlsDir, `seg-${s}.ts`), content(s));
  writeFileSync(join(hlsDir, 'live.m3u8'), playlist(0, N - 1));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
  if (shmDir) rmSync(shmDir, { recursive: true, force: true });
});

/** Recordings on another mount than the HLS folder (a NAS in production). */
function recordingsOnAnotherMount(): void {
  shmDir = mkdtempSync('/dev/shm/vigil-crash-rec-');
  recDir = join(shmDir, 'cam');
  mkdirSync(recDir);
  expect(statSync(recDir).dev, '/dev/shm must be another filesystem than the test data folder').not.toBe(statSync(hlsDir).dev);
  // The premise: a plain rename between the two folders fails with EXDEV.
  writeFileSync(join(hlsDir, 'probe'), 'x');
  expect(() => renameSync(join(hlsDir, 'probe'), join(recDir, 'probe'))).toThrow(/EXDEV/);
  rmSync(join(hlsDir, 'probe'));
}

const content = (seq: number) => Buffer.from(`segment ${seq} `.repeat(50 + seq * 7));

function playlist(from: number, to: number): string {
  const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:1', `#EXT-X-MEDIA-SEQUENCE:${from}`];
  for (let s = from; s <= to; s++) lines.push('#EXTINF:1.000000,', `#EXT-X-PROGRAM-DATE-TIME:${new Date(T0 + s * 1000).toISOString()}`, `seg-${s}.ts`);
  return lines.join('\n') + '\n';
}

interface ChildResult {
  paused: string | null;
  done: Record<string, unknown> | null;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs the child; when it prints PAUSED, kills it with SIGKILL right there. */
function runChild(env: Record<string, string>): Promise<ChildResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(REPO, 'bin/run-ts.mjs'), CHILD], {
      env: { ...process.env, DATA_DIR: dataDir, HLS_DIR: hlsDir, REC_DIR: recDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let paused: string | null = null;
    child.on('error', fail);
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      const m = /PAUSED (.+)\n/.exec(out);
      if (m && !paused) {
        paused = m[1]!;
        child.kill('SIGKILL');
      }
    });
    child.on('close', (code, signal) => {
      const m = /DONE (.+)\n/.exec(out);
      if (!paused && !m) return fail(new Error(`child failed (code ${code}, signal ${signal}):\n${err}`));
      done({ paused, done: m ? (JSON.parse(m[1]!) as Record<string, unknown>) : null, code, signal });
    });
  });
}

/** The state after a restart: every row has its file (byte for byte), every file its row, nothing left behind. */
async function expectConsistent(expectedSeqs: number[]): Promise<void> {
  const store = await openSqliteStore({ file: storeFileIn(dataDir) });
  try {
    const rows = await store.recordings.list('cam');
    expect(rows.map((r) => r.seq)).toEqual(expectedSeqs);
    const files = readdirSync(recDir).sort();
    expect(files).toEqual(expectedSeqs.map((s) => `seg-${s}.ts`).sort());
    for (const r of rows) {
      expect(readFileSync(join(recDir, r.file)).equals(content(r.seq)), `seg-${r.seq}.ts intact`).toBe(true);
      expect(r.bytes).toBe(content(r.seq).length);
      expect(r.pdt).toBe(T0 + r.seq * 1000);
    }
    expect(readdirSync(hlsDir).filter((f) => f.startsWith('seg-'))).toEqual([]);
  } finally {
    await store.close();
  }
}

const ALL = Array.from({ length: N }, (_, i) => i);

describe('kill -9 half-way through a sweep, same mount', () => {
  it('after a row is committed and before its file moved: the restart finishes the move', async () => {
    const first = await runChild({ MODE: 'sweep', KEEP_FROM: String(N - 2), PAUSE_STEP: 'row-added', PAUSE_SEQ: '3' });
    expect(first.paused).toBe('row-added 3');
    expect(first.signal).toBe('SIGKILL');
    expect(readdirSync(hlsDir)).toContain('seg-3.ts'); // the kill really landed between row and move
    const again = await runChild({ MODE: 'restart' });
    expect(again.done).toMatchObject({ startNumber: N, reconciled: { finished: 1, lost: 0 } });
    await expectConsistent(ALL);
  });

  it('after the first segment of a sweep: nothing recorded twice, nothing skipped', async () => {
    const first = await runChild({ MODE: 'sweep', KEEP_FROM: String(N - 2), PAUSE_STEP: 'row-added', PAUSE_SEQ: '0' });
    expect(first.paused).toBe('row-added 0');
    await runChild({ MODE: 'restart' });
    await expectConsistent(ALL);
  });
});

describe('kill -9 half-way through a prune', () => {
  it('after the rows are deleted and before the files are: the restart removes the files', async () => {
    expect((await runChild({ MODE: 'sweep', KEEP_FROM: String(N) })).done).toEqual({ recorded: ALL });
    // Segments ending before T0 + 6 s go (0..4); 5, 6, 7 stay.
    const first = await runChild({ MODE: 'prune', NOW: String(T0 + 6000 + 3600_000), RECORDING: '{"maxAgeHours": 1}', PAUSE_STEP: 'rows-deleted' });
    expect(first.paused).toBe('rows-deleted 0');
    expect(readdirSync(recDir)).toContain('seg-0.ts'); // files still there, rows gone
    const again = await runChild({ MODE: 'restart' });
    expect(again.done).toMatchObject({ reconciled: { orphans: 5, lost: 0 } });
    await expectConsistent([5, 6, 7]);
  });
});

describe('recordings on another mount (EXDEV)', () => {
  it('moves every segment across mounts: copy, fsync, rename into place, unlink', async () => {
    recordingsOnAnotherMount();
    expect((await runChild({ MODE: 'sweep', KEEP_FROM: String(N) })).done).toEqual({ recorded: ALL });
    await expectConsistent(ALL);
  });

  for (const step of ['row-added', 'copied', 'placed'] as const) {
    it(`survives kill -9 at "${step}" of a cross-mount move: no half file under a real name, nothing lost`, async () => {
      recordingsOnAnotherMount();
      const first = await runChild({ MODE: 'sweep', KEEP_FROM: String(N - 2), PAUSE_STEP: step, PAUSE_SEQ: '2' });
      expect(first.paused).toBe(`${step} 2`);
      const left = readdirSync(recDir);
      if (step === 'copied') expect(left).toContain('.seg-2.ts.partial');
      if (step !== 'placed') expect(left).not.toContain('seg-2.ts');
      else expect(readdirSync(hlsDir)).toContain('seg-2.ts'); // in place, source not yet unlinked
      await runChild({ MODE: 'restart' });
      await expectConsistent(ALL);
    });
  }
});
