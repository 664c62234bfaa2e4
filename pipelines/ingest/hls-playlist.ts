// Reading the media playlists ffmpeg's HLS muxer writes: segment numbers, durations and program date-times.
import { readFile } from 'node:fs/promises';
import { segmentSeq } from './paths.ts';

export interface PlaylistSegment {
  /** Media sequence number (also the number in the file name). */
  seq: number;
  uri: string;
  /** EXTINF, seconds. */
  duration: number;
  /** EXT-X-PROGRAM-DATE-TIME in ms since the epoch; null when the playlist has none. */
  pdt: number | null;
}

export interface MediaPlaylist {
  mediaSequence: number;
  segments: PlaylistSegment[];
  ended: boolean;
}

/** Parses a media playlist. PDTs missing on a segment are carried from the previous one plus its duration. */
export function parsePlaylist(text: string): MediaPlaylist {
  let mediaSequence = 0;
  let duration = 0;
  let pdt: number | null = null;
  let ended = false;
  const segments: PlaylistSegment[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) mediaSequence = Number(line.slice(22));
    else if (line.startsWith('#EXTINF:')) duration = parseFloat(line.slice(8));
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pdt = Date.parse(line.slice(25).replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
    else if (line === '#EXT-X-ENDLIST') ended = true;
    else if (line && !line.startsWith('#')) {
      const seq = segmentSeq(line.split('/').pop() ?? '') ?? mediaSequence + segments.length;
      segments.push({ seq, uri: line, duration, pdt });
      pdt = pdt === null ? null : pdt + duration * 1000;
    }
  }
  return { mediaSequence, segments, ended };
}

/** Reads and parses a playlist; null while it does not exist yet. */
export async function readPlaylist(path: string): Promise<MediaPlaylist | null> {
  try {
    return parsePlaylist(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
