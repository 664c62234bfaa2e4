// Video exports: one row per MP4 clip cut from a camera's recording, and its file `<dataDir>/exports/<id>.mp4`.
// The row is created queued, the exporter (server/exports) moves it to running and done/failed; rows are kept until
// deleted (row first, then the file). Active exports (queued/running) hold their camera's segments against
// recording retention (recordings.ts keptRanges reads this table).
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kysely, Selectable } from 'kysely';
import { newEventId } from './event-rows.ts';
import type { ExportsTable, StoreSchema } from './schema.ts';

export type ExportState = 'queued' | 'running' | 'done' | 'failed';

export interface ExportRecord {
  id: string;
  camera: string;
  /** Requested range, ms (pdt). */
  from: number;
  to: number;
  /** The event the range came from, if any. */
  event: string | null;
  burnBoxes: boolean;
  state: ExportState;
  /** 0..1 */
  progress: number;
  error: string | null;
  /** File size once done. */
  bytes: number | null;
  /** Seconds of video in the file once done. */
  duration: number | null;
  author: string;
  createdAt: number;
  finishedAt: number | null;
}

export interface NewExport {
  camera: string;
  from: number;
  to: number;
  event?: string | null;
  burnBoxes: boolean;
  author: string;
}

export function exportsDirIn(dataDir: string): string {
  return join(dataDir, 'exports');
}

export class KyselyExportStore {
  readonly dir: string;

  constructor(
    private readonly db: Kysely<StoreSchema>,
    dataDir: string,
  ) {
    this.dir = exportsDirIn(dataDir);
  }

  /** Where an export's MP4 lives (it exists once the export is done). */
  filePath(id: string): string {
    return join(this.dir, `${id}.mp4`);
  }

  async create(e: NewExport, now = Date.now()): Promise<ExportRecord> {
    const row: ExportsTable = {
      id: newEventId(now),
      camera: e.camera,
      from_pdt: e.from,
      to_pdt: e.to,
      event_id: e.event ?? null,
      burn_boxes: e.burnBoxes ? 1 : 0,
      state: 'queued',
      progress: 0,
      error: null,
      bytes: null,
      duration: null,
      author: e.author,
      created_at: now,
      finished_at: null,
    };
    await this.db.insertInto('exports').values(row).execute();
    return toRecord(row);
  }

  async get(id: string): Promise<ExportRecord | null> {
    const row = await this.db.selectFrom('exports').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  /** Newest first. */
  async list(limit = 200): Promise<ExportRecord[]> {
    const rows = await this.db.selectFrom('exports').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toRecord);
  }

  async running(id: string): Promise<void> {
    await this.db.updateTable('exports').set({ state: 'running', progress: 0 }).where('id', '=', id).execute();
  }

  async progress(id: string, progress: number): Promise<void> {
    await this.db.updateTable('exports').set({ progress: Math.max(0, Math.min(1, progress)) }).where('id', '=', id).where('state', '=', 'running').execute();
  }

  async done(id: string, result: { bytes: number; duration: number }, now = Date.now()): Promise<void> {
    await this.db.updateTable('exports').set({ state: 'done', progress: 1, bytes: result.bytes, duration: result.duration, finished_at: now }).where('id', '=', id).execute();
  }

  async failed(id: string, error: string, now = Date.now()): Promise<void> {
    await this.db.updateTable('exports').set({ state: 'failed', error, finished_at: now }).where('id', '=', id).execute();
  }

  /** At start: exports a previous process left queued or running failed with it (their partial files are removed). */
  async failInterrupted(now = Date.now()): Promise<string[]> {
    const rows = await this.db
      .updateTable('exports')
      .set({ state: 'failed', error: 'interrupted: Vigil stopped while this export ran; start it again', finished_at: now })
      .where('state', 'in', ['queued', 'running'])
      .returning('id')
      .execute();
    for (const r of rows) await rm(this.filePath(r.id), { force: true });
    return rows.map((r) => r.id);
  }

  /** At start: removes files of no row (a crash between a delete's row and its file, or a cut's leftovers). */
  async sweep(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const ids = new Set((await this.db.selectFrom('exports').select('id').execute()).map((r) => r.id));
    const gone = names.filter((n) => !ids.has(n.split('.')[0]!) || n !== `${n.split('.')[0]}.mp4`);
    for (const n of gone) await rm(join(this.dir, n), { force: true });
    return gone;
  }

  /** Row first, then the file (a crash in between leaves a file without a row, never a row without its file). */
  async delete(id: string): Promise<boolean> {
    const gone = await this.db.deleteFrom('exports').where('id', '=', id).returning('id').execute();
    if (!gone.length) return false;
    await rm(this.filePath(id), { force: true });
    await rm(`${this.filePath(id)}.part`, { force: true });
    return true;
  }
}

function toRecord(r: Selectable<ExportsTable>): ExportRecord {
  return {
    id: r.id,
    camera: r.camera,
    from: Number(r.from_pdt),
    to: Number(r.to_pdt),
    event: r.event_id,
    burnBoxes: Number(r.burn_boxes) === 1,
    state: r.state as ExportState,
    progress: Number(r.progress),
    error: r.error,
    bytes: r.bytes === null ? null : Number(r.bytes),
    duration: r.duration === null ? null : Number(r.duration),
    author: r.author,
    createdAt: Number(r.created_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
  };
}
