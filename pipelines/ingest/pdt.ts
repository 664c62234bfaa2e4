// Maps a sampled frame's PTS to its wall-clock time on the HLS timeline:
//   PDT(P) = PDT(first segment of this run) + (P - P0)
// where P0 is the PTS of the run's first decoded frame. Copy mode starts the first segment at the first keyframe,
// which is also the first decoded frame (the H.264 decoder drops what precedes it); when encoding, the first raw
// frame is both. The first segment's PDT is the wall clock when ffmpeg's HLS writer started, so it can only be
// read from the playlist, about one segment after the first frame.
import type { MediaPlaylist } from './hls-playlist.ts';

export class PdtMapper {
  #anchorMs: number | null = null;
  #p0: number | null = null;
  /** True when the run's first segment had already left the playlist and the anchor was estimated. */
  estimated = false;

  constructor(private readonly startNumber: number) {}

  get ready(): boolean {
    return this.#anchorMs !== null && this.#p0 !== null;
  }

  /** PTS (seconds) of the first decoded frame of the run; later calls are ignored. */
  setFirstPts(seconds: number): void {
    if (this.#p0 === null) this.#p0 = seconds;
  }

  /** Takes the anchor from the playlist when it shows this run's first segment. Returns whether it is known. */
  observe(playlist: MediaPlaylist): boolean {
    if (this.#anchorMs !== null) return true;
    const segs = playlist.segments.filter((s) => s.seq >= this.startNumber && s.pdt !== null);
    const first = segs[0];
    if (!first) return false; // still the previous run's playlist, or none yet
    if (first.seq === this.startNumber) {
      this.#anchorMs = first.pdt;
    } else {
      // Missed the first segment (polling fell far behind): earlier segments lasted about as long as this one.
      this.#anchorMs = first.pdt! - (first.seq - this.startNumber) * first.duration * 1000;
      this.estimated = true;
    }
    return true;
  }

  /** Wall-clock ms of a frame with PTS `seconds`. Only valid when `ready`. */
  map(seconds: number): number {
    if (this.#anchorMs === null || this.#p0 === null) throw new Error('PdtMapper.map() before the anchor is known');
    return Math.round(this.#anchorMs + (seconds - this.#p0) * 1000);
  }
}
