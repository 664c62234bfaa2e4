// The PTS of the first video frame in an MPEG-TS segment, read from its first video PES header. The HLS writer
// stamps a segment's PROGRAM-DATE-TIME from its own clock; knowing which PTS that segment starts with is what lets
// the supervisor put the playlist on the camera's clock (pdt.ts).
import { open } from 'node:fs/promises';

const TS_PACKET = 188;
/** ffmpeg's MPEG-TS muxer shifts every timestamp by twice `-muxdelay` (0.7 s default) unless timestamps are copied. */
export const MPEGTS_DELAY_SECONDS = 1.4;

/** PTS (seconds, 90 kHz clock as written) of the first video PES in `buf`, or null when there is none. */
export function firstVideoPts(buf: Buffer): number | null {
  for (let at = 0; at + TS_PACKET <= buf.length; at += TS_PACKET) {
    if (buf[at] !== 0x47 || !(buf[at + 1]! & 0x40)) continue; // not a sync byte, or no payload unit start
    const adaptation = (buf[at + 3]! >> 4) & 3;
    let p = at + 4;
    if (adaptation === 2) continue; // adaptation field only
    if (adaptation === 3) p += 1 + buf[p]!;
    if (p + 14 > at + TS_PACKET) continue;
    const isPes = buf[p] === 0 && buf[p + 1] === 0 && buf[p + 2] === 1;
    const streamId = buf[p + 3]!;
    if (!isPes || streamId < 0xe0 || streamId > 0xef) continue;
    if (!(buf[p + 7]! & 0x80)) return null; // a video PES without PTS: nothing to anchor on
    const b = buf.subarray(p + 9, p + 14);
    const pts = (b[0]! >> 1) & 0x07;
    const ticks = pts * 2 ** 30 + ((b[1]! << 7) | (b[2]! >> 1)) * 2 ** 15 + ((b[3]! << 7) | (b[4]! >> 1));
    return ticks / 90000;
  }
  return null;
}

/** Reads the first PTS of a segment file (its first 64 KiB); null when unreadable or none found. */
export async function readFirstVideoPts(path: string): Promise<number | null> {
  let fh;
  try {
    fh = await open(path, 'r');
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return firstVideoPts(buf.subarray(0, bytesRead));
  } catch {
    return null;
  } finally {
    await fh?.close();
  }
}
