// Keeping events and their files in step: retention (rows first, files after) and the startup sweep that settles
// what a crash interrupted (folders without a row, staged replacements, rows whose files are missing).
import { setImmediate as yieldLoop } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type { EventsConfig } from '../../config/rule.ts';
import { EVIDENCE_KINDS, isEventId, type EvidenceFiles, type EvidenceKind } from './evidence-files.ts';
import type { StoreSchema } from './schema.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** Rows per retention transaction: the event loop gets a turn between batches. */
const BATCH = 2000;
const ID_BATCH = 200;

export interface RetentionResult {
  events: number;
  evaluations: number;
  prompts: number;
}

/**
 * Deletes closed events older than `maxAgeDays` (by end) unless kept, with their evaluations, then their folders;
 * evaluations of no event older than `evaluationsMaxAgeHours` (by pdt); prompts no remaining evaluation uses.
 */
export async function retain(db: Kysely<StoreSchema>, files: EvidenceFiles, cfg: EventsConfig, now: number): Promise<RetentionResult> {
  const result: RetentionResult = { events: 0, evaluations: 0, prompts: 0 };
  const eventCutoff = now - cfg.maxAgeDays * DAY;
  for (;;) {
    const ids = await db.transaction().execute(async (trx) => {
      const due = await trx
        .selectFrom('events')
        .select('id')
        .where('state', '=', 'closed')
        .where('keep', '=', 0)
        .where('end_pdt', '<', eventCutoff)
        .limit(ID_BATCH)
        .execute();
      const ids = due.map((r) => r.id);
      if (ids.length) {
        await trx.deleteFrom('evaluations').where('event_id', 'in', ids).execute();
        await trx.deleteFrom('events').where('id', 'in', ids).execute();
      }
      return ids;
    });
    for (const id of ids) await files.remove(id); // only after the rows are gone
    result.events += ids.length;
    if (ids.length < ID_BATCH) break;
  }
  const evalCutoff = now - cfg.evaluationsMaxAgeHours * HOUR;
  for (;;) {
    const gone = await db
      .deleteFrom('evaluations')
      .where('id', 'in', (eb) => eb.selectFrom('evaluations').select('id').where('event_id', 'is', null).where('pdt', '<', evalCutoff).limit(BATCH))
      .executeTakeFirst();
    const n = Number(gone.numDeletedRows);
    result.evaluations += n;
    if (n < BATCH) break;
    await yieldLoop();
  }
  result.prompts = await prunePrompts(db, evalCutoff);
  return result;
}

/**
 * A prompt last used before the evaluations' cutoff can only still be pointed at by evaluations that belong to an
 * event (the others are gone): those are few, and reached through the (event_id, pdt) index.
 */
async function prunePrompts(db: Kysely<StoreSchema>, cutoff: number): Promise<number> {
  const gone = await db
    .deleteFrom('prompts')
    .where('last_used', '<', cutoff)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('evaluations').select('evaluations.id').where('evaluations.event_id', 'is not', null).whereRef('evaluations.prompt_hash', '=', 'prompts.hash'))),
    )
    .executeTakeFirst();
  return Number(gone.numDeletedRows);
}

export interface SweepResult {
  /** Folders under `<dataDir>/events` with no row (a crash between writing files and committing), removed. */
  removedFolders: string[];
  /** Staged replacements whose row had committed, renamed into place. */
  promoted: number;
  /** Staged or temporary files of writes that never committed, removed. */
  dropped: number;
  /** Rows whose files are missing (kept: the row is still the record of what happened). */
  missingFiles: { id: string; kinds: EvidenceKind[] }[];
}

/** Settles the events folder against the rows; ids in `busy` (writes in flight) are left alone. */
export async function sweep(db: Kysely<StoreSchema>, files: EvidenceFiles, busy: ReadonlySet<string>): Promise<SweepResult> {
  const result: SweepResult = { removedFolders: [], promoted: 0, dropped: 0, missingFiles: [] };
  const folders = (await files.folders()).filter((name) => !busy.has(name));
  const tags = new Map<string, string>();
  const candidates = folders.filter(isEventId);
  for (let i = 0; i < candidates.length; i += ID_BATCH) {
    const rows = await db.selectFrom('events').select(['id', 'evidence_tag']).where('id', 'in', candidates.slice(i, i + ID_BATCH)).execute();
    for (const r of rows) tags.set(r.id, r.evidence_tag);
  }
  for (const name of folders) {
    const tag = tags.get(name);
    if (tag === undefined) {
      await files.removeFolder(name);
      result.removedFolders.push(name);
      continue;
    }
    const settled = await files.settle(name, tag);
    result.promoted += settled.promoted;
    result.dropped += settled.dropped;
    if (settled.missing.length) result.missingFiles.push({ id: name, kinds: settled.missing });
  }
  // Rows whose whole folder is gone.
  const ids = await db.selectFrom('events').select('id').execute();
  const seen = new Set(folders);
  for (const { id } of ids) {
    if (!seen.has(id) && !busy.has(id)) result.missingFiles.push({ id, kinds: [...EVIDENCE_KINDS] });
  }
  return result;
}
