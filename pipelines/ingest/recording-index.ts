// The port through which ingest records which segments it kept and prunes them: the rows of the recording index.
// Ingest never imports the store (a later stage); the composition root injects an implementation
// (pipelines/store: SQLite today, PostgreSQL later). Files are ingest's business, rows are the index's.

/** One recorded segment of a camera: a row of the recording index. */
export interface RecordedSegment {
  /** Global (across runs) segment number; `seg-<seq>.ts`. */
  seq: number;
  /** File name inside the camera's recordings folder. */
  file: string;
  /** EXT-X-PROGRAM-DATE-TIME of the segment, ms since the epoch. */
  pdt: number;
  /** Seconds. */
  duration: number;
  bytes: number;
  /** ffmpeg run that wrote it: a change of run is a discontinuity in playback. */
  run: number;
}

/** How much recording a camera may keep. */
export interface RetentionBudget {
  /** Segments that ended before this time (ms since the epoch) go. */
  endedBefore: number;
  /** Then the oldest go until the camera's total is at most this many bytes. */
  maxBytes: number;
}

export interface RecordingIndex {
  /**
   * Records one segment in its own transaction. Returns false when the camera already has a row for this `seq`
   * (an earlier attempt committed it): that row is kept unchanged.
   */
  add(camera: string, segment: RecordedSegment): Promise<boolean>;
  /** Records many segments in ONE transaction (all or none); rows already there are kept. Returns how many were new. */
  addMany(camera: string, segments: readonly RecordedSegment[]): Promise<number>;
  /** A camera's segments overlapping [from, to) (ms, pdt), oldest first; all of them without a range. */
  list(camera: string, range?: { from?: number; to?: number }): Promise<RecordedSegment[]>;
  /** Every `seq` the camera has a row for (startup reconciliation against the folder). */
  seqs(camera: string): Promise<number[]>;
  /** Highest recorded `seq` of the camera, or null when it has none. */
  lastSeq(camera: string): Promise<number | null>;
  /**
   * Deletes, in one transaction, the rows past the budget (oldest first) and returns them, passing over the segments
   * that a stored event keeps (its recording range; the store knows the events). The caller unlinks
   * their files only after this resolved, so a crash in between leaves files without rows, never rows without files.
   */
  takeExpired(camera: string, budget: RetentionBudget): Promise<RecordedSegment[]>;
  /** Deletes the given rows in one transaction (rows whose file is gone for good). */
  remove(camera: string, seqs: readonly number[]): Promise<void>;
}
