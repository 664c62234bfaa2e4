// The overlay: a canvas over the video, aligned to the picture's displayed rectangle (object-fit:
// contain letterboxing), redrawn for every presented frame from requestVideoFrameCallback. For the
// frame actually on screen (metadata.mediaTime mapped through its fragment's PDT) it draws what the
// server sent for that PDT: here a marker of the nearest sampled frame, later detection boxes.
import type { FrameEvent } from '../../server/wire.ts';
import { captureFrame } from './test-hooks.ts';

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Where a video of vw x vh pixels is drawn inside a cw x ch box with object-fit: contain. */
export function containRect(cw: number, ch: number, vw: number, vh: number): Rect {
  if (!vw || !vh || !cw || !ch) return { x: 0, y: 0, w: cw, h: ch };
  const s = Math.min(cw / vw, ch / vh);
  const w = vw * s;
  const h = vh * s;
  return { x: (cw - w) / 2, y: (ch - h) / 2, w, h };
}

/** One fragment on the media timeline: start/duration in media seconds, pdt in ms since epoch. */
export interface FragTime {
  sn: number;
  start: number;
  duration: number;
  pdt: number;
}

/** PDT (ms) of media time `t`, from the fragment that contains it; null when none does. */
export function pdtAt(frags: Iterable<FragTime>, t: number): number | null {
  let best: FragTime | null = null;
  for (const f of frags) {
    if (t >= f.start - 0.001 && t < f.start + f.duration + 0.001) {
      // At a boundary prefer the later fragment: its own PDT is the exact anchor for its first frame.
      if (!best || f.start > best.start) best = f;
    }
  }
  return best ? best.pdt + (t - best.start) * 1000 : null;
}

/** What tests and humans can read back (window.__vigil.overlay in test builds). */
export interface OverlayDebug {
  camera: string;
  /** PDT of the frame on screen at the last presented frame. */
  displayedPdt: number | null;
  /** PDT / seq of the sampled frame the marker was last drawn for (exact match). */
  markerPdt: number | null;
  markerSeq: number | null;
  /** Presented frames on which the exact-match marker was drawn. */
  drawnCount: number;
  /** Presented frames seen by the overlay. */
  presentedCount: number;
  /** Estimated source frame interval (ms). */
  frameIntervalMs: number;
  /** Recent exact matches (bounded). */
  matches: Array<{ seq: number; run: number; markerPdt: number; displayedPdt: number; displayedAt: number; capture?: string }>;
  /** When true (test builds only), each exact match also stores a PNG of the presented video frame. */
  capture: boolean;
}

const MATCH_HISTORY = 50;

export class Overlay {
  readonly debug: OverlayDebug;
  private readonly ctx: CanvasRenderingContext2D;
  private lastMediaTime = -1;
  private lastPresented = -1;
  private readonly intervals: number[] = [];

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly video: HTMLVideoElement,
    camera: string,
  ) {
    this.ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
    this.debug = { camera, displayedPdt: null, markerPdt: null, markerSeq: null, drawnCount: 0, presentedCount: 0, frameIntervalMs: 1000 / 30, matches: [], capture: false };
  }

  /** Draws for one presented frame; `nearest`/`held` come from the frame buffer for `displayedPdt`. */
  draw(meta: VideoFrameCallbackMetadata, displayedPdt: number | null, nearest: (pdt: number) => FrameEvent | null, held: (pdt: number) => FrameEvent | null): void {
    this.trackInterval(meta);
    const d = this.debug;
    d.presentedCount++;
    d.displayedPdt = displayedPdt;
    const rect = this.resize();
    const ctx = this.ctx;
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (displayedPdt === null) return;
    const near = nearest(displayedPdt);
    // The sampled frame IS the one on screen when their PDTs are within half a frame interval.
    if (near && Math.abs(near.pdt - displayedPdt) <= d.frameIntervalMs / 2) {
      this.drawMarker(rect, near, displayedPdt, true);
      d.drawnCount++;
      d.markerPdt = near.pdt;
      d.markerSeq = near.seq;
      const displayedAt = performance.timeOrigin + meta.expectedDisplayTime;
      const m: OverlayDebug['matches'][number] = { seq: near.seq, run: near.run, markerPdt: near.pdt, displayedPdt, displayedAt };
      if (__VIGIL_TEST_HOOKS__ && d.capture) m.capture = captureFrame(this.video);
      d.matches.push(m);
      if (d.matches.length > MATCH_HISTORY) d.matches.shift();
      return;
    }
    // Between samples, hold the latest one faded: how a detection stays up until the next result.
    const h = held(displayedPdt);
    if (h && displayedPdt - h.pdt < 1500) this.drawMarker(rect, h, displayedPdt, false);
  }

  clear(): void {
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.debug.displayedPdt = null;
  }

  private drawMarker(r: Rect, f: FrameEvent, displayedPdt: number, exact: boolean): void {
    const ctx = this.ctx;
    const dpr = window.devicePixelRatio || 1;
    // Sampled frames are the whole picture rescaled: map their pixel grid onto the displayed rect.
    const sx = r.w / f.width;
    const sy = r.h / f.height;
    const cx = r.x + (f.width / 2) * sx;
    const cy = r.y + (f.height / 2) * sy;
    const inset = 4 * dpr;
    ctx.save();
    ctx.globalAlpha = exact ? 1 : 0.45;
    ctx.strokeStyle = exact ? '#35e07a' : '#f5c542';
    ctx.lineWidth = (exact ? 3 : 2) * dpr;
    ctx.strokeRect(r.x + inset, r.y + inset, r.w - 2 * inset, r.h - 2 * inset);
    const arm = Math.min(r.w, r.h) * 0.06;
    ctx.beginPath();
    ctx.moveTo(cx - arm, cy);
    ctx.lineTo(cx + arm, cy);
    ctx.moveTo(cx, cy - arm);
    ctx.lineTo(cx, cy + arm);
    ctx.stroke();
    const label = `#${f.seq} Δ${Math.round(displayedPdt - f.pdt)} ms`;
    ctx.font = `${Math.round(13 * dpr)}px ui-monospace, monospace`;
    const tw = ctx.measureText(label).width;
    ctx.fillStyle = 'rgba(0,0,0,0.6)';
    ctx.fillRect(r.x + inset, r.y + r.h - inset - 20 * dpr, tw + 12 * dpr, 20 * dpr);
    ctx.fillStyle = exact ? '#35e07a' : '#f5c542';
    ctx.fillText(label, r.x + inset + 6 * dpr, r.y + r.h - inset - 6 * dpr);
    ctx.restore();
  }

  /** Sizes the canvas to the element in device pixels; returns the picture's rect in canvas pixels. */
  private resize(): Rect {
    const dpr = window.devicePixelRatio || 1;
    const cw = Math.round(this.video.clientWidth * dpr);
    const ch = Math.round(this.video.clientHeight * dpr);
    if (this.canvas.width !== cw || this.canvas.height !== ch) {
      this.canvas.width = cw;
      this.canvas.height = ch;
    }
    return containRect(cw, ch, this.video.videoWidth, this.video.videoHeight);
  }

  /** Median of recent media-time steps between consecutively presented frames. */
  private trackInterval(meta: VideoFrameCallbackMetadata): void {
    if (this.lastPresented >= 0 && meta.presentedFrames === this.lastPresented + 1) {
      const step = (meta.mediaTime - this.lastMediaTime) * 1000;
      if (step > 1 && step < 250) {
        this.intervals.push(step);
        if (this.intervals.length > 61) this.intervals.shift();
        const sorted = [...this.intervals].sort((a, b) => a - b);
        this.debug.frameIntervalMs = sorted[sorted.length >> 1] as number;
      }
    }
    this.lastPresented = meta.presentedFrames;
    this.lastMediaTime = meta.mediaTime;
  }
}
