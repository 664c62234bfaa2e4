// Evidence files of events: `<dataDir>/events/<id>/{snapshot,annotated,thumbnail}.jpg`. The names are fixed so the
// HTTP layer can serve them without a query (EventStore.filePath). Every file is written to a temporary name,
// fsynced, renamed into place and its folder fsynced, BEFORE the row that points at it commits. A replacement (a
// better frame for an open event) is staged as `<kind>.<tag>.next`, the row switches to `tag` in its transaction,
// then the staged files are renamed over the old ones; a crash in between is settled by `settle()` at the next
// start: staged files whose tag the row holds are renamed into place (the commit happened), others are dropped.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventEvidence } from '../rules/types.ts';

export const EVIDENCE_KINDS = ['snapshot', 'annotated', 'thumbnail'] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

/** Event ids are 26 Crockford base32 characters (see event-rows.ts); anything else never names a folder. */
const EVENT_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const STAGED = /^(snapshot|annotated|thumbnail)\.([0-9a-f]+)\.next$/;

export function isEventId(id: string): boolean {
  return EVENT_ID.test(id);
}

/** A fresh tag naming one generation of an event's evidence. */
export function newEvidenceTag(): string {
  return randomBytes(6).toString('hex');
}

/** What settling one event's folder did. */
export interface SettleResult {
  promoted: number;
  dropped: number;
  /** Evidence files missing once settled. */
  missing: EvidenceKind[];
}

export class EvidenceFiles {
  /** @param root `<dataDir>/events` */
  constructor(readonly root: string) {}

  dirOf(id: string): string {
    if (!isEventId(id)) throw new Error(`not an event id: ${JSON.stringify(id)}`);
    return join(this.root, id);
  }

  path(id: string, kind: EvidenceKind): string {
    return join(this.dirOf(id), `${kind}.jpg`);
  }

  /** Writes a new event's files under their final names (durable once this resolves). */
  async write(id: string, evidence: EventEvidence): Promise<void> {
    const dir = this.dirOf(id);
    await mkdir(dir, { recursive: true });
    await Promise.all(EVIDENCE_KINDS.map((kind) => writeDurably(join(dir, `${kind}.jpg`), evidence[kind])));
    await syncDir(dir);
    await syncDir(this.root);
  }

  /** Writes a replacement under staged names (durable once this resolves); the row switches to `tag` next. */
  async stage(id: string, evidence: EventEvidence, tag: string): Promise<void> {
    const dir = this.dirOf(id);
    await mkdir(dir, { recursive: true });
    await Promise.all(EVIDENCE_KINDS.map((kind) => writeDurably(join(dir, stagedName(kind, tag)), evidence[kind])));
    await syncDir(dir);
  }

  /** After the row holds `tag`: renames the staged files over the current ones (each rename is atomic). */
  async promote(id: string, tag: string): Promise<void> {
    const dir = this.dirOf(id);
    for (const kind of EVIDENCE_KINDS) {
      const staged = join(dir, stagedName(kind, tag));
      if (existsSync(staged)) await rename(staged, join(dir, `${kind}.jpg`));
    }
    await syncDir(dir);
  }

  /** The row never switched to `tag`: its staged files go. */
  async discard(id: string, tag: string): Promise<void> {
    const dir = this.dirOf(id);
    for (const kind of EVIDENCE_KINDS) await rm(join(dir, stagedName(kind, tag)), { force: true });
  }

  /** Removes the event's folder (after its row is gone). */
  async remove(id: string): Promise<void> {
    await rm(this.dirOf(id), { recursive: true, force: true });
  }

  /** Names of the folders under the root (event ids, and anything else found there). */
  async folders(): Promise<string[]> {
    try {
      return await readdir(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** Removes a folder that has no row, whatever its name (called by the startup sweep only). */
  async removeFolder(name: string): Promise<void> {
    await rm(join(this.root, name), { recursive: true, force: true });
  }

  /**
   * Finishes or undoes what a crash interrupted in the folder of an event whose row holds `tag`: staged files of that
   * tag are renamed into place, other staged files and temporary files are removed.
   */
  async settle(id: string, tag: string): Promise<SettleResult> {
    const dir = this.dirOf(id);
    const result: SettleResult = { promoted: 0, dropped: 0, missing: [] };
    const present = new Set<string>();
    for (const name of await readdir(dir)) {
      const staged = STAGED.exec(name);
      if (staged && staged[2] === tag) {
        await rename(join(dir, name), join(dir, `${staged[1]}.jpg`));
        present.add(`${staged[1]}.jpg`);
        result.promoted++;
      } else if (staged || name.includes('.tmp-')) {
        await rm(join(dir, name), { force: true });
        result.dropped++;
      } else present.add(name);
    }
    if (result.promoted) await syncDir(dir);
    result.missing = EVIDENCE_KINDS.filter((kind) => !present.has(`${kind}.jpg`));
    return result;
  }
}

function stagedName(kind: EvidenceKind, tag: string): string {
  return `${kind}.${tag}.next`;
}

/** Temporary name, write, fsync, rename into place: the final name only ever holds a complete file. */
async function writeDurably(file: string, data: Buffer): Promise<void> {
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}

/** Makes the renames and creations inside `dir` durable. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
