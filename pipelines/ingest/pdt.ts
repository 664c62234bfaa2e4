// Puts a run's frames and its HLS playlist on one wall clock, the camera's capture time:
//   pdt(P) = P + offset        (offset: packet-clock.ts, the smallest arrival-minus-PTS, frozen once used)
// ffmpeg's HLS writer stamps the first segment with the time it started writing, which lags capture by the probe
// (0.7-2 s; longer when the stream was joined mid-GOP), so its PROGRAM-DATE-TIMEs are moved by
//   shift = pdt(first PTS of a segment) - ffmpeg's PDT of that segment
// and the same `pdt` keys a sampled frame and the video frame a player shows at that PDT.
// Frames can flow as soon as the packet clock has settled (a 10 s GOP camera's first segment is complete only
// 10 s after its first frame); the playlist is published once a segment of this run is listed.
// The segment's first PTS is read from the segment itself (ts-pts.ts): with B-frames and a session that starts on a
// keyframe, the first packet has no timestamp and the copy starts a GOP later than the decoder, so "the first
// decoded frame opens the first segment" does not hold there. Fallbacks, each reported through `fallback`: no timed
// packet (no `-debug_ts` lines) keeps ffmpeg's PDTs as they are; an unreadable segment assumes the first decoded
// frame opens the first segment.
import { join } from 'node:path';
import { HLS_TS_OFFSET_SECONDS } from './args.ts';
import type { MediaPlaylist } from './hls-playlist.ts';
import type { PacketClock } from './packet-clock.ts';
import { MPEGTS_DELAY_SECONDS, readFirstVideoPts } from './ts-pts.ts';

/** Longest wait for the packet clock to settle before the playlist is published anyway. */
const CLOCK_WAIT_MS = 5000;

export class PdtMapper {
  #offsetMs: number | null = null;
  #shiftMs: number | null = null;
  #firstFramePts: number | null = null;
  #firstSegmentPts: number | null = null;
  /** Set when a fallback was used: what was assumed (for a warning). */
  fallback: string | null = null;

  constructor(
    private readonly startNumber: number,
    private readonly clock: PacketClock,
    private readonly readFirstPts: (path: string) => Promise<number | null> = readFirstVideoPts,
  ) {}

  /** Frames can be mapped. */
  get ready(): boolean {
    return this.#offsetMs !== null;
  }

  /** The playlist shift is known (a segment of this run was seen). */
  get anchored(): boolean {
    return this.#shiftMs !== null;
  }

  /** PTS (seconds) of the run's first decoded frame; only used when a segment cannot be read. */
  setFirstPts(seconds: number): void {
    this.#firstFramePts ??= seconds;
  }

  /** Takes the packet clock's offset once it has settled (then frozen). Returns whether frames can be mapped. */
  anchorOnClock(nowMs: number): boolean {
    if (this.#offsetMs === null && this.clock.settled(nowMs)) {
      this.clock.freeze();
      this.#offsetMs = this.clock.offsetMs;
    }
    return this.ready;
  }

  /**
   * Anchors the playlist on the first segment of this run that ffmpeg's playlist lists (files in `hlsDir`), and the
   * frames too when the packet clock did not settle first. Resolves whether the shift is known; it never changes.
   */
  async observe(playlist: MediaPlaylist, hlsDir: string, nowMs = Date.now()): Promise<boolean> {
    if (this.anchored) return true;
    if (this.#offsetMs === null && this.#clockUnsettled(nowMs)) return false; // probe backlog still draining
    const seg = playlist.segments.find((s) => s.seq >= this.startNumber && s.pdt !== null);
    if (!seg) return false; // still the previous run's playlist, or none yet
    const tsPts = await this.readFirstPts(join(hlsDir, seg.uri));
    let segPts = tsPts === null ? null : tsPts - HLS_TS_OFFSET_SECONDS - MPEGTS_DELAY_SECONDS;
    if (seg.seq === this.startNumber) this.#firstSegmentPts = segPts;
    if (segPts === null) {
      if (this.#firstFramePts === null || seg.seq !== this.startNumber) return false; // wait for a frame / next tick
      segPts = this.#firstFramePts;
      this.fallback = 'first segment unreadable: assumed it starts with the first decoded frame';
    }
    if (this.#offsetMs === null) {
      const clockOffset = this.clock.offsetMs;
      this.clock.freeze();
      if (clockOffset === null) this.fallback = 'no packet timing from ffmpeg: kept the HLS writer clock';
      this.#offsetMs = clockOffset ?? seg.pdt! - segPts * 1000;
    }
    this.#shiftMs = Math.round(this.#offsetMs + segPts * 1000 - seg.pdt!);
    return true;
  }

  /** A loaded machine drains ffmpeg's probe backlog slowly: wait for the clock to settle, up to CLOCK_WAIT_MS. */
  #clockUnsettled(nowMs: number): boolean {
    const first = this.clock.firstPacketAt;
    return first !== null && !this.clock.settled(nowMs) && nowMs - first < CLOCK_WAIT_MS;
  }

  /**
   * PTS (seconds) of the run's first HLS frame, when read from the segment. Decoded frames before it are not in the
   * video (a B-frame session that started on a keyframe copies from its second GOP) and their times are the
   * decoder's guesses.
   */
  get firstSegmentPts(): number | null {
    return this.#firstSegmentPts;
  }

  /** Milliseconds to add to every PROGRAM-DATE-TIME ffmpeg writes in this run. Only valid when `anchored`. */
  get shiftMs(): number {
    if (this.#shiftMs === null) throw new Error('PdtMapper.shiftMs before a segment was seen');
    return this.#shiftMs;
  }

  /** Wall-clock ms of a frame with PTS `seconds`. Only valid when `ready`. */
  map(seconds: number): number {
    if (this.#offsetMs === null) throw new Error('PdtMapper.map() before the anchor is known');
    return Math.round(this.#offsetMs + seconds * 1000);
  }
}
