// An event's clip on request (GET /api/events/:id/clip.mp4, the `clip` link in notifications), as Frigate's
// /events/<id>/clip.mp4: the event's recording range cut by stream copy, which costs a file copy (about a second
// for a minute). A phone's player asks again for every byte range, so a clip is cut once and reused while it
// would hold the same segments; an open event's next segment makes a new one. Clips are a cache, not exports:
// files older than an hour go as new ones are cut.
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordedSegment } from '../../pipelines/ingest/recording-index.ts';
import { cutClip } from './cut.ts';
import { NoRecordingError } from './exporter.ts';

export interface EventClipDeps {
  /** The cache folder (`<dataDir>/clips`). */
  dir: string;
  /** The recorded segments overlapping [from, to), oldest first (server/vod/segments.ts). */
  segments(camera: string, from: number, to: number): Promise<RecordedSegment[]>;
  /** Where a recorded segment's file is now. */
  segmentPath(camera: string, file: string): string;
  ffmpeg: string;
}

/** What a clip needs of an event. */
export interface ClipSource {
  id: string;
  camera: string;
  /** The event's recording range (pdt ms); `to` is null while the event is open. */
  recording: { from: number; to: number | null };
}

/** How long a cut clip stays in the cache. */
export const CLIP_KEEP_MS = 60 * 60_000;

export class EventClips {
  readonly #d: EventClipDeps;
  /** Cuts in progress by file name: concurrent range requests for one clip wait on one ffmpeg. */
  readonly #cutting = new Map<string, Promise<string>>();

  constructor(d: EventClipDeps) {
    this.#d = d;
  }

  /** The MP4 of the event's recording as it stands now; NoRecordingError when none of it was kept. */
  async file(ev: ClipSource, now = Date.now()): Promise<string> {
    const to = ev.recording.to ?? now;
    const segs = await this.#d.segments(ev.camera, ev.recording.from, to);
    if (!segs.length) throw new NoRecordingError(ev.camera, ev.recording.from, to);
    // The name says which segments the clip holds, so a cached one is reused exactly while it is still whole.
    const name = `${ev.id.replace(/[^\w-]/g, '_')}-${segs[0]!.seq}-${segs[segs.length - 1]!.seq}.mp4`;
    const path = join(this.#d.dir, name);
    if (await isFile(path)) return path;
    let cut = this.#cutting.get(name);
    if (!cut) {
      cut = this.#cut(ev.camera, segs, path).finally(() => this.#cutting.delete(name));
      this.#cutting.set(name, cut);
    }
    return cut;
  }

  /** Removes clips older than CLIP_KEEP_MS (also at start: a cache must not outlive a quiet week). */
  sweep(now = Date.now()): Promise<void> {
    return this.#sweep(now - CLIP_KEEP_MS);
  }

  async #cut(camera: string, segs: RecordedSegment[], path: string): Promise<string> {
    await mkdir(this.#d.dir, { recursive: true });
    await this.sweep();
    await cutClip({ ffmpeg: this.#d.ffmpeg, out: path, segments: segs.map((s) => ({ path: this.#d.segmentPath(camera, s.file), pdt: s.pdt, duration: s.duration })) });
    return path;
  }

  /** Removes what was written before `before` (clips, and the leftovers of a cut a crash interrupted). */
  async #sweep(before: number): Promise<void> {
    const names = await readdir(this.#d.dir).catch(() => [] as string[]);
    await Promise.all(
      names.map(async (n) => {
        const p = join(this.#d.dir, n);
        const s = await stat(p).catch(() => null);
        if (s?.isFile() && s.mtimeMs < before) await rm(p, { force: true });
      }),
    );
  }
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}
