// Recorded video as the player and the timeline see it: a VOD HLS playlist for a time range built from the
// recording index (each segment keeps its own PROGRAM-DATE-TIME, so a player's frame time is the analysed
// frame's pdt), and the continuous extents of a camera's recording.
import type { RecordedSegment } from '../../pipelines/ingest/recording-index.ts';

/** A hole between two segments longer than this breaks the timeline's extent and marks a playlist discontinuity. */
export const GAP_MS = 1000;

export interface RecordedRange {
  from: number;
  to: number;
}

const end = (s: RecordedSegment) => s.pdt + s.duration * 1000;

/** Continuous recorded extents (segments closer than GAP_MS merge), oldest first. Segments sorted by pdt. */
export function recordedRanges(segments: readonly RecordedSegment[]): RecordedRange[] {
  const out: RecordedRange[] = [];
  for (const s of segments) {
    const last = out[out.length - 1];
    if (last && s.pdt <= last.to + GAP_MS) last.to = Math.max(last.to, Math.round(end(s)));
    else out.push({ from: s.pdt, to: Math.round(end(s)) });
  }
  return out;
}

/**
 * A VOD media playlist (HLS v3) over the given segments (sorted by pdt). `uri` names each segment's URL.
 * A new ffmpeg run (`run` changes) or a hole in the recording is a discontinuity: timestamps restart there.
 */
export function vodPlaylist(segments: readonly RecordedSegment[], uri: (s: RecordedSegment) => string): string {
  // EXTINF rounded to the nearest integer must not exceed the target duration (RFC 8216 4.3.3.1).
  const target = Math.max(1, ...segments.map((s) => Math.ceil(s.duration)));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-PLAYLIST-TYPE:VOD', `#EXT-X-TARGETDURATION:${target}`, `#EXT-X-MEDIA-SEQUENCE:${segments[0]?.seq ?? 0}`, '#EXT-X-INDEPENDENT-SEGMENTS'];
  let prev: RecordedSegment | null = null;
  for (const s of segments) {
    if (prev && (s.run !== prev.run || s.pdt > end(prev) + GAP_MS || s.seq !== prev.seq + 1)) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.pdt).toISOString()}`, `#EXTINF:${s.duration.toFixed(6)},`, uri(s));
    prev = s;
  }
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}
