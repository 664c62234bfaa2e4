// Packet-level facts of one ffmpeg run, read from `-debug_ts` stderr lines ("demuxer+ffmpeg -> ... pkt_pts:N ..."),
// one per packet read from the camera, with PTS on the same timeline as showinfo (input offset applied):
//   - progress: when the last packet arrived (data flows even while a long GOP has no keyframe to decode yet);
//   - wall clock: the camera's PTS timeline against this machine's clock. A packet cannot arrive before it was
//     captured, so `arrival - pts` is the capture clock offset plus that packet's delay (encode, network, ffmpeg's
//     own queue). The smallest value seen is the closest to capture. Packets buffered while ffmpeg probed the
//     stream arrive in a burst with large delays and never win the minimum; B-frames (sent after the P-frame they
//     precede) never win it either, so the offset comes from a frame sent as soon as it was encoded.
// Why not RTCP sender reports: ffmpeg's CLI does not expose them (AVFormatContext.start_time_realtime is API only),
// and many cameras' NTP clocks are wrong by seconds; this offset is measured against the clock Vigil runs on.

const DEBUG_TS = /^(demuxer|demuxer\+ffmpeg|decoder|encoder|filter|muxer) (->|<-) /;
const PACKET = /^demuxer\+ffmpeg -> ist_index:\d+ type:video pkt_pts:(-?\d+) pkt_pts_time:([\d.e+-]+) (?:.*?\bduration:(\d+) duration_time:([\d.e+-]+))?/;

/** Lines of ffmpeg's `-debug_ts` (and their "Last message repeated" echoes) that are not worth a log tail. */
export function isDebugTsLine(line: string): boolean {
  return DEBUG_TS.test(line) || line.startsWith('    Last message repeated');
}

/**
 * The stream timebase (1/N) from a packet's integer PTS or duration and their printed times (6 significant digits, so
 * only large enough integers give an exact N); null until a packet allows it.
 */
function timebaseOf(pts: number, ptsSeconds: number, duration: number, durationSeconds: number): number | null {
  if (duration > 0 && durationSeconds > 0) return 1 / Math.round(duration / durationSeconds);
  if (pts >= 1000 && ptsSeconds > 0) return 1 / Math.round(pts / ptsSeconds);
  return null;
}

const SETTLE_STEP_MS = 5;
const SETTLE_MS = 1000;

export class PacketClock {
  #timebase: number | null = null;
  #offsetMs: number | null = null;
  #lastPacketAt: number | null = null;
  #firstPacketAt: number | null = null;
  #packets = 0;
  #frozen = false;
  /** When the offset last fell by more than SETTLE_STEP_MS: packets were still arriving faster than real time. */
  #lastDropAt: number | null = null;

  /**
   * Reads one stderr line received at `nowMs`. Returns true when it was a `-debug_ts` line (consumed), false for any
   * other line. Video packets without a PTS still count as progress.
   */
  push(line: string, nowMs: number): boolean {
    if (!line.startsWith('demuxer+ffmpeg -> ')) return isDebugTsLine(line);
    if (!line.includes(' type:video ')) return true;
    this.#lastPacketAt = nowMs;
    this.#firstPacketAt ??= nowMs;
    this.#packets++;
    const m = PACKET.exec(line);
    if (!m) return true; // pkt_pts:NOPTS (the parser lost it): progress, no time
    this.#timebase ??= timebaseOf(Number(m[1]), Number(m[2]), Number(m[3] ?? 0), Number(m[4] ?? 0));
    if (this.#timebase === null || this.#frozen) return true;
    const offset = nowMs - Number(m[1]) * this.#timebase * 1000;
    if (this.#offsetMs === null || offset < this.#offsetMs - SETTLE_STEP_MS) this.#lastDropAt = nowMs;
    if (this.#offsetMs === null || offset < this.#offsetMs) this.#offsetMs = offset;
    return true;
  }

  /**
   * Whether the offset can be trusted at `nowMs`: it has not fallen noticeably for SETTLE_MS. While ffmpeg works
   * through the packets it buffered during probing, each one arrives sooner (relative to its PTS) than the last.
   */
  settled(nowMs: number): boolean {
    return this.#offsetMs !== null && this.#lastDropAt !== null && nowMs - this.#lastDropAt >= SETTLE_MS;
  }

  /** Wall-clock ms minus PTS ms: wall(P) = P * 1000 + offsetMs. Null until a timed packet arrived. */
  get offsetMs(): number | null {
    return this.#offsetMs;
  }

  /** Stops refining the offset: published times must not move (the HLS playlist carries them to players). */
  freeze(): void {
    this.#frozen = true;
  }

  get firstPacketAt(): number | null {
    return this.#firstPacketAt;
  }

  get lastPacketAt(): number | null {
    return this.#lastPacketAt;
  }

  get packets(): number {
    return this.#packets;
  }
}
