// Recording retention: segments that leave the live window are moved (same filesystem: a rename) from the HLS
// folder to the recordings folder and appended to index.jsonl with their PDT, so playback can rebuild a playlist
// for any time range. The oldest recordings are pruned past recording.maxAgeHours or recording.maxSizeMB.
import { appendFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordingConfig } from '../../config/schema.ts';
import type { MediaPlaylist } from './hls-playlist.ts';
import { RECORDING_INDEX, segmentSeq } from './paths.ts';

/** One line of `<recordings>/<camera>/index.jsonl`. */
export interface RecordedSegment {
  seq: number;
  /** File name inside the recordings folder. */
  file: string;
  /** EXT-X-PROGRAM-DATE-TIME of the segment, ms since the epoch. */
  pdt: number;
  /** Seconds. */
  duration: number;
  bytes: number;
  /** ffmpeg run that wrote it: a change of run is a discontinuity in playback. */
  run: number;
}

interface KnownSegment {
  pdt: number;
  duration: number;
  run: number;
}

export interface RetentionOptions {
  hlsDir: string;
  recordingDir: string;
  recording: RecordingConfig;
}

export class RecordingKeeper {
  /** What the playlists said about segments still in the HLS folder. */
  #known = new Map<number, KnownSegment>();

  constructor(private readonly opts: RetentionOptions) {}

  /** Learns PDTs and durations of segments numbered from `minSeq` on, written by run `run`. */
  observe(playlist: MediaPlaylist, run: number, minSeq: number): void {
    for (const s of playlist.segments) {
      if (s.seq >= minSeq && s.pdt !== null && !this.#known.has(s.seq)) this.#known.set(s.seq, { pdt: s.pdt, duration: s.duration, run });
    }
  }

  /**
   * Moves every segment file numbered below `keepFrom` out of the HLS folder (into recordings when enabled and its
   * PDT is known, else deletes it). Pass the live playlist's media sequence while a run is going, or Infinity
   * when no run is (the whole folder belongs to the past then).
   */
  async sweep(keepFrom: number): Promise<RecordedSegment[]> {
    const moved: RecordedSegment[] = [];
    for (const name of await listDir(this.opts.hlsDir)) {
      const seq = segmentSeq(name);
      if (seq === null || seq >= keepFrom) continue;
      const rec = await this.#retire(seq, name);
      if (rec) moved.push(rec);
    }
    if (moved.length) {
      await mkdir(this.opts.recordingDir, { recursive: true });
      await appendFile(join(this.opts.recordingDir, RECORDING_INDEX), moved.map((r) => JSON.stringify(r) + '\n').join(''));
    }
    return moved;
  }

  async #retire(seq: number, name: string): Promise<RecordedSegment | null> {
    const src = join(this.opts.hlsDir, name);
    const known = this.#known.get(seq);
    this.#known.delete(seq);
    if (!this.opts.recording.enabled || !known) {
      await rm(src, { force: true });
      return null;
    }
    await mkdir(this.opts.recordingDir, { recursive: true });
    const bytes = (await stat(src)).size;
    await rename(src, join(this.opts.recordingDir, name));
    return { seq, file: name, pdt: known.pdt, duration: known.duration, bytes, run: known.run };
  }

  /** Highest segment number in the HLS folder or the recordings index, so a new run continues after it. */
  async lastSeq(): Promise<number> {
    let last = -1;
    for (const name of await listDir(this.opts.hlsDir)) last = Math.max(last, segmentSeq(name) ?? -1);
    for (const r of await readRecordingIndex(this.opts.recordingDir)) last = Math.max(last, r.seq);
    return last;
  }

  /** Applies the age and size budget; returns what was deleted. */
  async prune(now = Date.now()): Promise<RecordedSegment[]> {
    const index = await readRecordingIndex(this.opts.recordingDir);
    const { keep, drop } = selectPrunable(index, this.opts.recording, now);
    if (!drop.length) return [];
    // Rewrite the index first: a crash in between leaves orphan files (harmless), never entries without files.
    await writeFile(join(this.opts.recordingDir, RECORDING_INDEX), keep.map((r) => JSON.stringify(r) + '\n').join(''));
    await Promise.all(drop.map((r) => rm(join(this.opts.recordingDir, r.file), { force: true })));
    return drop;
  }
}

/** Pure retention policy: drops segments that ended before now - maxAge, then the oldest until under maxSize. */
export function selectPrunable(
  index: readonly RecordedSegment[],
  recording: Pick<RecordingConfig, 'maxAgeHours' | 'maxSizeMB'>,
  now: number,
): { keep: RecordedSegment[]; drop: RecordedSegment[] } {
  const oldestAllowed = now - recording.maxAgeHours * 3600_000;
  const sorted = [...index].sort((a, b) => a.pdt - b.pdt);
  const drop: RecordedSegment[] = [];
  let keep = sorted.filter((r) => (r.pdt + r.duration * 1000 < oldestAllowed ? (drop.push(r), false) : true));
  const budget = recording.maxSizeMB * 1024 * 1024;
  let total = keep.reduce((n, r) => n + r.bytes, 0);
  let cut = 0;
  while (total > budget && cut < keep.length) total -= keep[cut++]!.bytes;
  drop.push(...keep.slice(0, cut));
  keep = keep.slice(cut);
  return { keep, drop };
}

/** The recording index of a camera, oldest first; empty when there is none. Bad lines are skipped. */
export async function readRecordingIndex(recordingDir: string): Promise<RecordedSegment[]> {
  let text: string;
  try {
    text = await readFile(join(recordingDir, RECORDING_INDEX), 'utf8');
  } catch {
    return [];
  }
  const out: RecordedSegment[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as RecordedSegment);
    } catch {
      /* a torn last line after a crash */
    }
  }
  return out.sort((a, b) => a.pdt - b.pdt);
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}
