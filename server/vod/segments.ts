// The segments of a camera's recording over a time range: the recording index's rows, plus the live window's
// segments that have not left it yet (the index gets a segment only when it leaves the live playlist, so the last
// `hls.liveSegments` seconds exist only there). Both carry the same corrected PDTs (the live playlist's are the
// ones ingest records), so a range reaching up to now plays and exports without a hole at its end.
import { join } from 'node:path';
import type { RecordedSegment, RecordingIndex } from '../../pipelines/ingest/recording-index.ts';
import { readPlaylist } from '../../pipelines/ingest/hls-playlist.ts';
import { LIVE_PLAYLIST } from '../../pipelines/ingest/paths.ts';

export interface SegmentSource {
  recordings: Pick<RecordingIndex, 'list'>;
  /** Live HLS folder of a camera. */
  hlsDirOf: (camera: string) => string;
  /** The camera's current ffmpeg run (its live playlist's), when known. */
  runOf?: (camera: string) => number | undefined;
}

/** Segments overlapping [from, to), oldest first: indexed ones, then live ones newer than the last indexed. */
export async function segmentsBetween(src: SegmentSource, camera: string, from: number, to: number): Promise<RecordedSegment[]> {
  const indexed = await src.recordings.list(camera, { from, to });
  const live = await readPlaylist(join(src.hlsDirOf(camera), LIVE_PLAYLIST)).catch(() => null);
  if (!live) return indexed;
  const lastSeq = indexed.length ? indexed[indexed.length - 1]!.seq : -1;
  const run = src.runOf?.(camera) ?? indexed[indexed.length - 1]?.run ?? 0;
  const known = new Set(indexed.map((s) => s.seq));
  const fresh = live.segments
    .filter((s): s is typeof s & { pdt: number } => s.pdt !== null && s.seq > lastSeq && !known.has(s.seq))
    .filter((s) => s.pdt < to && s.pdt + s.duration * 1000 > from)
    .map((s) => ({ seq: s.seq, file: s.uri.split('/').pop()!, pdt: s.pdt, duration: s.duration, bytes: 0, run }));
  return [...indexed, ...fresh];
}
