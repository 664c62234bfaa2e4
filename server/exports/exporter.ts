// The export worker: MP4 clips of a camera's recording made in the background, one at a time (a burn-in encodes
// video; two at once would only halve each). Rows live in the store (kept until deleted); while an export is queued
// or running its rows hold the camera's segments against recording retention, so the files it reads stay.
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import type { RecordedSegment } from '../../pipelines/ingest/recording-index.ts';
import type { Evaluation } from '../../pipelines/rules/types.ts';
import type { ExportRecord, NewExport } from '../../pipelines/store/exports.ts';
import type { Logger } from '../log.ts';
import { clipTime, cutClip, type ClipSegment, type TimedBox } from './cut.ts';

/** The store's export table as the worker uses it (pipelines/store/exports.ts KyselyExportStore). */
export interface ExportRows {
  readonly dir: string;
  filePath(id: string): string;
  create(e: NewExport): Promise<ExportRecord>;
  get(id: string): Promise<ExportRecord | null>;
  list(limit?: number): Promise<ExportRecord[]>;
  running(id: string): Promise<void>;
  progress(id: string, fraction: number): Promise<void>;
  done(id: string, r: { bytes: number; duration: number }): Promise<void>;
  failed(id: string, error: string): Promise<void>;
  failInterrupted(): Promise<string[]>;
  sweep(): Promise<string[]>;
  delete(id: string): Promise<boolean>;
}

export interface ExporterDeps {
  rows: ExportRows;
  /** The recorded segments overlapping [from, to), oldest first (server/vod/segments.ts). */
  segments(camera: string, from: number, to: number): Promise<RecordedSegment[]>;
  evaluationsBetween(camera: string, fromPdt: number, toPdt: number, rule?: string): Promise<Evaluation[]>;
  /** Where a recorded segment's file is now (the recordings folder, or the live folder a moment before it moves). */
  segmentPath(camera: string, file: string): string;
  ffmpeg: string;
  log: Logger;
}

export class NoRecordingError extends Error {
  constructor(camera: string, from: number, to: number) {
    super(`camera "${camera}" has no recording between ${new Date(from).toISOString()} and ${new Date(to).toISOString()}: pick a range the timeline shows as recorded`);
    this.name = 'NoRecordingError';
  }
}

/** How long a burned box stays when its rule is not evaluated again (seconds). */
const BOX_HOLD_S = 2;
/** Progress writes at most this often. */
const PROGRESS_EVERY_MS = 500;

export class Exporter {
  readonly #d: ExporterDeps;
  readonly #queue: string[] = [];
  #current: { id: string; abort: AbortController } | null = null;
  #pump: Promise<void> | null = null;
  #closed = false;

  constructor(d: ExporterDeps) {
    this.#d = d;
  }

  /** Marks exports an earlier process left unfinished as failed (their segments are no longer held). */
  async start(): Promise<void> {
    await mkdir(this.#d.rows.dir, { recursive: true });
    const failed = await this.#d.rows.failInterrupted();
    if (failed.length) this.#d.log.warn({ exports: failed }, 'exports interrupted by the last shutdown marked failed');
    const orphans = await this.#d.rows.sweep();
    if (orphans.length) this.#d.log.info({ files: orphans }, 'removed export files that belong to no export');
  }

  /** Queues an export of [from, to) after checking there is recording in it. */
  async create(e: NewExport): Promise<ExportRecord> {
    if (this.#closed) throw new Error('the exporter is closed');
    const segments = await this.#d.segments(e.camera, e.from, e.to);
    if (!segments.length) throw new NoRecordingError(e.camera, e.from, e.to);
    const rec = await this.#d.rows.create(e);
    this.#queue.push(rec.id);
    this.#pump ??= this.#drain().finally(() => (this.#pump = null));
    return rec;
  }

  /** Deletes an export (cancelling it if it runs): row, then file. False when there is none. */
  async delete(id: string): Promise<boolean> {
    const i = this.#queue.indexOf(id);
    if (i >= 0) this.#queue.splice(i, 1);
    if (this.#current?.id === id) this.#current.abort.abort();
    return this.#d.rows.delete(id);
  }

  /** Cancels the export in progress (its row is failed at the next start) and waits for it; idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.length = 0;
    this.#current?.abort.abort();
    await this.#pump;
  }

  async #drain(): Promise<void> {
    for (let id = this.#queue.shift(); id !== undefined && !this.#closed; id = this.#queue.shift()) {
      const abort = new AbortController();
      this.#current = { id, abort };
      try {
        await this.#run(id, abort.signal);
      } catch (err) {
        if (!abort.signal.aborted) {
          this.#d.log.warn({ export: id, err: String(err) }, 'export failed');
          await this.#d.rows.failed(id, (err as Error).message).catch(() => undefined);
        }
      } finally {
        this.#current = null;
      }
    }
  }

  async #run(id: string, signal: AbortSignal): Promise<void> {
    const rec = await this.#d.rows.get(id);
    if (!rec) return; // deleted while queued
    await this.#d.rows.running(id);
    const segments = (await this.#d.segments(rec.camera, rec.from, rec.to))
      .map((s) => ({ s, path: this.#d.segmentPath(rec.camera, s.file) }))
      .filter(({ path }) => existsSync(path));
    if (!segments.length) throw new NoRecordingError(rec.camera, rec.from, rec.to);
    const clip: ClipSegment[] = segments.map(({ s, path }) => ({ path, pdt: s.pdt, duration: s.duration }));
    const boxes = rec.burnBoxes ? await this.#boxes(rec, segments.map((x) => x.s), clip) : undefined;
    let last = 0;
    const onProgress = (f: number) => {
      if (Date.now() - last < PROGRESS_EVERY_MS) return;
      last = Date.now();
      void this.#d.rows.progress(id, f).catch(() => undefined);
    };
    const result = await cutClip({ ffmpeg: this.#d.ffmpeg, segments: clip, out: this.#d.rows.filePath(id), ...(boxes ? { boxes } : {}), onProgress, signal });
    // Deleted just as ffmpeg finished: the row and its file are gone, so is the file renamed in after.
    if (signal.aborted) return void (await rm(this.#d.rows.filePath(id), { force: true }));
    await this.#d.rows.done(id, result);
    this.#d.log.info({ export: id, camera: rec.camera, ...result }, 'export done');
  }

  /** The stored evaluations' boxes over the clip, each from its frame until its rule's next evaluation (at most 2 s). */
  async #boxes(rec: ExportRecord, segs: RecordedSegment[], clip: ClipSegment[]): Promise<TimedBox[]> {
    const first = segs[0]!.pdt;
    const last = segs[segs.length - 1]!;
    const evals = await this.#d.evaluationsBetween(rec.camera, first, last.pdt + last.duration * 1000);
    const out: TimedBox[] = [];
    evals.forEach((e, i) => {
      const next = evals.slice(i + 1).find((n) => n.rule === e.rule);
      const from = clipTime(clip, e.pdt);
      const to = Math.min(from + BOX_HOLD_S, next ? clipTime(clip, next.pdt) : Infinity) - 0.001;
      for (const b of e.boxes) out.push({ from, to, x1: b.x1 / e.sourceW, y1: b.y1 / e.sourceH, x2: b.x2 / e.sourceW, y2: b.y2 / e.sourceH });
    });
    return out;
  }
}
