// Recording retention: segments that leave the live window move from the HLS folder to the recordings folder and
// get a row in the recording index (the store, injected as a RecordingIndex port) with their PDT, so playback can
// rebuild a playlist for any time range. The oldest recordings are pruned past recording.maxAgeHours or
// recording.maxSizeMB.
//
// Crash safety (kill -9 at any point loses no segment and orphans no file):
// - sweep, per segment: commit its row (one transaction), then move the file. A crash in between leaves a row whose
//   file is still in the HLS folder: reconciliation finishes the move.
// - prune: delete the rows (one transaction), then unlink the files. A crash in between leaves files without rows:
//   reconciliation unlinks them.
// - across mounts the move copies to a temp name first (move-file.ts), so no half file ever has a real name.
// Reconciliation runs once, before the keeper's first operation. Every operation of a keeper runs one at a time,
// so the sweep at a run's start never races the previous run's last tick.
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordingConfig } from '../../config/schema.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { MediaPlaylist } from './hls-playlist.ts';
import { importLegacyIndex } from './legacy-index.ts';
import { moveFile, type MoveStep } from './move-file.ts';
import { segmentSeq } from './paths.ts';
import { listDir, reconcileRecordings, type Reconciliation } from './reconcile.ts';
import type { RecordedSegment, RecordingIndex } from './recording-index.ts';
import { SerialQueue } from './serial-queue.ts';

export type { Reconciliation };

interface KnownSegment {
  pdt: number;
  duration: number;
  run: number;
}

/** Durable points of a sweep or prune: a crash test pauses or dies here. */
export type RetentionStep = 'row-added' | MoveStep | 'rows-deleted';

export interface RetentionOptions {
  camera: string;
  hlsDir: string;
  recordingDir: string;
  recording: RecordingConfig;
  index: RecordingIndex;
  logger?: Logger;
  /** Awaited after each durable step (tests only). */
  onStep?: (step: RetentionStep, seq: number) => void | Promise<void>;
}

export class RecordingKeeper {
  /** What the playlists said about segments still in the HLS folder (kept until the segment is placed). */
  readonly #known = new Map<number, KnownSegment>();
  readonly #queue = new SerialQueue();
  readonly #log: Logger;
  #reconciled: Reconciliation | null = null;

  constructor(private readonly opts: RetentionOptions) {
    this.#log = opts.logger ?? silentLogger;
  }

  /** Learns PDTs and durations of segments numbered from `minSeq` on, written by run `run`. */
  observe(playlist: MediaPlaylist, run: number, minSeq: number): void {
    for (const s of playlist.segments) {
      if (s.seq >= minSeq && s.pdt !== null && !this.#known.has(s.seq)) this.#known.set(s.seq, { pdt: s.pdt, duration: s.duration, run });
    }
  }

  /** Repairs what a crash left (once per keeper; every other operation waits for it). */
  reconcile(): Promise<Reconciliation> {
    return this.#serial(async () => this.#reconciled!);
  }

  /**
   * Moves every segment file numbered below `keepFrom` out of the HLS folder (into recordings when enabled and its
   * PDT is known, else deletes it). Pass the live playlist's media sequence while a run is going, or Infinity
   * when no run is (the whole folder belongs to the past then). Returns the segments recorded.
   */
  sweep(keepFrom: number): Promise<RecordedSegment[]> {
    return this.#serial(() => this.#sweep(keepFrom));
  }

  /** Highest segment number in the HLS folder or the recording index, so a new run continues after it. */
  lastSeq(): Promise<number> {
    return this.#serial(async () => {
      let last = (await this.opts.index.lastSeq(this.opts.camera)) ?? -1;
      for (const name of await listDir(this.opts.hlsDir)) last = Math.max(last, segmentSeq(name) ?? -1);
      return last;
    }, false);
  }

  /** Applies the age and size budget: rows first (one transaction), then files. Returns what was deleted. */
  prune(now = Date.now()): Promise<RecordedSegment[]> {
    return this.#serial(async () => {
      const { maxAgeHours, maxSizeMB } = this.opts.recording;
      const gone = await this.opts.index.takeExpired(this.opts.camera, { endedBefore: now - maxAgeHours * 3600_000, maxBytes: maxSizeMB * 1024 * 1024 });
      if (!gone.length) return gone;
      await this.#step('rows-deleted', gone[0]!.seq);
      for (const r of gone) await rm(join(this.opts.recordingDir, r.file), { force: true });
      return gone;
    });
  }

  /** Lets the operation in progress finish; later calls reject. Idempotent. */
  close(): Promise<void> {
    return this.#queue.close();
  }

  /**
   * Runs `fn` after every earlier operation, once the keeper has reconciled. Reading the start number does not need
   * reconciliation (the index's MAX(seq) stands either way): live video starts even while the recordings folder is
   * unavailable; sweeps and prunes wait for it, leaving segments in the HLS folder until then.
   */
  #serial<T>(fn: () => Promise<T>, needsReconciled = true): Promise<T> {
    return this.#queue.run(async () => {
      try {
        this.#reconciled ??= await this.#reconcile();
      } catch (err) {
        if (needsReconciled) throw err;
        this.#log.warn({ err: String(err) }, 'recordings not reconciled yet');
      }
      return fn();
    });
  }

  async #sweep(keepFrom: number): Promise<RecordedSegment[]> {
    const due = (await listDir(this.opts.hlsDir))
      .map((name) => ({ name, seq: segmentSeq(name) }))
      .filter((f): f is { name: string; seq: number } => f.seq !== null && f.seq < keepFrom)
      .sort((a, b) => a.seq - b.seq);
    if (due.length && this.opts.recording.enabled) await mkdir(this.opts.recordingDir, { recursive: true });
    const recorded: RecordedSegment[] = [];
    for (const { name, seq } of due) {
      try {
        const rec = await this.#retire(seq, name);
        if (rec) recorded.push(rec);
      } catch (err) {
        // One bad segment (vanished, disk full) must not hold back the others; it is retried next sweep.
        this.#log.warn({ seq, err: String(err) }, 'could not retire segment');
      }
    }
    return recorded;
  }

  async #retire(seq: number, name: string): Promise<RecordedSegment | null> {
    const src = join(this.opts.hlsDir, name);
    const known = this.#known.get(seq);
    if (!this.opts.recording.enabled || !known) {
      await rm(src, { force: true });
      this.#known.delete(seq);
      return null;
    }
    const rec: RecordedSegment = { seq, file: name, pdt: known.pdt, duration: known.duration, bytes: (await stat(src)).size, run: known.run };
    // false: an earlier attempt committed this row and failed to move the file; finish that move now.
    await this.opts.index.add(this.opts.camera, rec);
    await this.#step('row-added', seq);
    await moveFile(src, join(this.opts.recordingDir, name), (step) => this.#step(step, seq));
    this.#known.delete(seq);
    return rec;
  }

  async #reconcile(): Promise<Reconciliation> {
    const legacy = await importLegacyIndex(this.opts.recordingDir, this.opts.camera, this.opts.index);
    if (legacy) this.#log.info({ ...legacy }, 'imported the recording index.jsonl into the store');
    const repaired = await reconcileRecordings(this.opts);
    const result = { imported: legacy?.added ?? 0, ...repaired };
    if (repaired.finished || repaired.orphans || repaired.lost) this.#log.warn(result, 'recordings reconciled after an interrupted sweep or prune');
    return result;
  }

  async #step(step: RetentionStep, seq: number): Promise<void> {
    await this.opts.onStep?.(step, seq);
  }
}
