// kill -9 during a burst of event writes (several cameras opening, updating with new evidence and closing), then
// start again as the composition root does: every event announced before the kill is in the store with what was
// announced, and after closeAllOpen('recovered-after-crash') + sweep() no event is open, no folder lacks its row,
// no row lacks its files, each row's files show the frame it names, and nothing half-written is left.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, storeFileIn } from '../../pipelines/store/index.ts';
import { T0 } from '../support/events.ts';

const REPO = resolve(import.meta.dirname, '../..');
const CHILD = join(REPO, 'test/support/events-child.ts');

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-events-crash-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

interface Announced {
  opened: Set<string>;
  /** Latest announced best frame per event. */
  updated: Map<string, number>;
  closed: Set<string>;
}

/** Runs the writer and kills it with SIGKILL once it has announced `killAfter` committed calls. */
function burst(basePdt: number, killAfter: number): Promise<Announced & { signal: NodeJS.Signals | null }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(REPO, 'bin/run-ts.mjs'), CHILD], {
      env: { ...process.env, DATA_DIR: dataDir, BASE_PDT: String(basePdt) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const seen: Announced = { opened: new Set(), updated: new Map(), closed: new Set() };
    let lines = 0;
    let partial = '';
    let err = '';
    child.on('error', fail);
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.stdout.on('data', (d: Buffer) => {
      const text = partial + d.toString();
      const complete = text.split('\n');
      partial = complete.pop()!;
      for (const line of complete) {
        const [what, id, pdt] = line.split(' ');
        if (what === 'OPENED') seen.opened.add(id!);
        if (what === 'UPDATED') seen.updated.set(id!, Number(pdt));
        if (what === 'CLOSED') seen.closed.add(id!);
        if (++lines === killAfter) child.kill('SIGKILL');
      }
    });
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') return fail(new Error(`the writer was not killed (code ${code}):\n${err}`));
      done({ ...seen, signal });
    });
  });
}

const marker = (file: string) => Number(readFileSync(file, 'latin1').split(' ')[2]);

async function restartAndCheck(seen: Announced): Promise<{ open: number; removedFolders: number }> {
  const store = await openSqliteStore({ file: storeFileIn(dataDir), dataDir });
  try {
    for (const id of seen.opened) expect(await store.events.get(id), `announced event ${id}`).not.toBeNull();
    for (const [id, pdt] of seen.updated) expect((await store.events.get(id))!.bestPdt).toBeGreaterThanOrEqual(pdt);
    for (const id of seen.closed) expect((await store.events.get(id))!.closeReason).toBe('negatives');
    // What the composition root does at start.
    const recovered = await store.events.closeAllOpen('recovered-after-crash');
    const swept = await store.events.sweep();
    expect(swept.missingFiles).toEqual([]);
    expect((await store.events.list({ state: 'open' })).events).toEqual([]);
    const rows = await store.events.list({ limit: 500 });
    expect(rows.next).toBeNull();
    const ids = rows.events.map((e) => e.id).sort();
    expect(readdirSync(join(dataDir, 'events')).sort()).toEqual(ids); // no folder without a row, no row without a folder
    for (const e of rows.events) {
      expect(readdirSync(join(dataDir, 'events', e.id)).sort()).toEqual(['annotated.jpg', 'snapshot.jpg', 'thumbnail.jpg']);
      for (const kind of ['snapshot', 'annotated', 'thumbnail'] as const) expect(marker(store.events.filePath(e.id, kind)!), `${e.id} ${kind}`).toBe(e.bestPdt);
    }
    return { open: recovered.length, removedFolders: swept.removedFolders.length };
  } finally {
    await store.close();
  }
}

describe('kill -9 during a burst of event writes', () => {
  it('keeps every announced event; the restart closes the open ones and leaves files and rows in step', async () => {
    let recoveredOpen = 0;
    // Three bursts into the same data folder, killed after different amounts of work; each restart checks the whole store.
    for (const [round, killAfter] of [17, 31, 46].entries()) {
      const seen = await burst(T0 + round * 100_000_000, killAfter);
      expect(seen.opened.size).toBeGreaterThan(0);
      recoveredOpen += (await restartAndCheck(seen)).open;
    }
    expect(recoveredOpen).toBeGreaterThan(0); // the kills did land while events were open
  });
});
