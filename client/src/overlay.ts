// The overlay: a canvas over the video, aligned to the picture's displayed rectangle (object-fit: contain
// letterboxing), redrawn for every presented frame from requestVideoFrameCallback. For the frame actually on
// screen (metadata.mediaTime mapped through its fragment's PDT) it draws every rule's result for that PDT
// (detections.ts chooses, draw-detections.ts paints), and keeps count of the sampled frames it saw shown.
import type { FrameEvent } from '../../server/wire.ts';
import type { ShownDetection } from './detections.ts';
import { DetectionPainter, type DrawnBox } from './draw-detections.ts';
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

/** One presented frame on which result boxes were drawn (window.__vigil in test builds). */
export interface DetectionDraw {
  displayedPdt: number;
  /** Wall-clock ms when the frame was due on screen. */
  displayedAt: number;
  boxes: DrawnBox[];
  /** PNG of the presented frame (test builds with `capture` on, exact draws only). */
  capture?: string;
}

/** What tests and humans can read back (window.__vigil.overlay in test builds). */
export interface OverlayDebug {
  camera: string;
  /** PDT of the frame on screen at the last presented frame. */
  displayedPdt: number | null;
  /** PDT / seq of the last sampled frame seen on screen (exact match). */
  markerPdt: number | null;
  markerSeq: number | null;
  /** Presented frames that were sampled frames (their PDTs within half a frame interval). */
  drawnCount: number;
  /** Presented frames seen by the overlay. */
  presentedCount: number;
  /** Estimated source frame interval (ms). */
  frameIntervalMs: number;
  /** Recent exact matches (bounded). */
  matches: Array<{ seq: number; run: number; markerPdt: number; displayedPdt: number; displayedAt: number; capture?: string }>;
  /** Boxes drawn on the last presented frame. */
  boxes: DrawnBox[];
  /** Recent frames with boxes drawn (bounded: a few seconds of video). */
  detectionDraws: DetectionDraw[];
  /** Recent frames with a box drawn exactly on the frame it was computed on (bounded). */
  exactDraws: DetectionDraw[];
  /** When true (test builds only), exact matches and exact box draws also store a PNG of the presented frame. */
  capture: boolean;
}

/** Where the overlay gets what belongs to a displayed PDT (the player binds camera and run). */
export interface OverlaySources {
  nearestFrame(pdt: number): FrameEvent | null;
  detections(pdt: number, frameIntervalMs: number): ShownDetection[];
}

const MATCH_HISTORY = 50;
const DRAW_HISTORY = 120;

export class Overlay {
  readonly debug: OverlayDebug;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly painter: DetectionPainter;
  private readonly interval = new FrameInterval();

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly video: HTMLVideoElement,
    camera: string,
    ruleName: (id: string) => string,
    maxAgeMs: number,
  ) {
    this.ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
    this.painter = new DetectionPainter(this.ctx, ruleName, maxAgeMs);
    this.debug = { camera, displayedPdt: null, markerPdt: null, markerSeq: null, drawnCount: 0, presentedCount: 0, frameIntervalMs: 1000 / 30, matches: [], boxes: [], detectionDraws: [], exactDraws: [], capture: false };
  }

  /** Draws for one presented frame shown at `displayedPdt` (null: its PDT is not known yet). */
  draw(meta: VideoFrameCallbackMetadata, displayedPdt: number | null, src: OverlaySources): void {
    this.debug.frameIntervalMs = this.interval.observe(meta) ?? this.debug.frameIntervalMs;
    const d = this.debug;
    d.presentedCount++;
    d.displayedPdt = displayedPdt;
    const rect = this.resize();
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    d.boxes = [];
    if (displayedPdt === null) return;
    const displayedAt = performance.timeOrigin + meta.expectedDisplayTime;
    const shown = src.detections(displayedPdt, d.frameIntervalMs);
    const shot = this.shotOnce();
    this.noteSampledFrame(src.nearestFrame(displayedPdt), displayedPdt, displayedAt, shot);
    if (shown.length === 0) return;
    d.boxes = this.painter.paint(rect, shown, window.devicePixelRatio || 1);
    if (d.boxes.length > 0) this.noteDraw(displayedPdt, displayedAt, shot);
  }

  /**
   * At most one PNG of the presented frame per callback, taken on first use (test builds with `capture` on):
   * the later it is taken, the likelier the video has moved on to the next frame.
   */
  private shotOnce(): () => string | undefined {
    return frameShot(this.video, () => this.debug.capture);
  }

  clear(): void {
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.debug.displayedPdt = null;
    this.debug.boxes = [];
  }

  /** The sampled frame IS the one on screen when their PDTs are within half a frame interval. */
  private noteSampledFrame(near: FrameEvent | null, displayedPdt: number, displayedAt: number, shot: () => string | undefined): void {
    const d = this.debug;
    if (!near || Math.abs(near.pdt - displayedPdt) > d.frameIntervalMs / 2) return;
    d.drawnCount++;
    d.markerPdt = near.pdt;
    d.markerSeq = near.seq;
    const m: OverlayDebug['matches'][number] = { seq: near.seq, run: near.run, markerPdt: near.pdt, displayedPdt, displayedAt };
    const png = shot();
    if (png) m.capture = png;
    d.matches.push(m);
    if (d.matches.length > MATCH_HISTORY) d.matches.shift();
  }

  private noteDraw(displayedPdt: number, displayedAt: number, shot: () => string | undefined): void {
    const d = this.debug;
    const draw: DetectionDraw = { displayedPdt, displayedAt, boxes: d.boxes };
    d.detectionDraws.push(draw);
    if (d.detectionDraws.length > DRAW_HISTORY) d.detectionDraws.shift();
    if (!d.boxes.some((b) => b.exact)) return;
    const png = shot();
    if (png) draw.capture = png;
    d.exactDraws.push(draw);
    if (d.exactDraws.length > MATCH_HISTORY) d.exactDraws.shift();
  }

  private resize(): Rect {
    return fitCanvas(this.canvas, this.video);
  }

}

/** The frame interval (ms): the median media-time step between consecutively presented frames, over the last 61. */
export class FrameInterval {
  private readonly steps: number[] = [];
  private lastPresented = -1;
  private lastMediaTime = -1;

  /** Feeds a presented frame; with `measure` false it is only remembered (paused, fast playback). Null while unknown. */
  observe(meta: VideoFrameCallbackMetadata, measure = true): number | null {
    if (measure && this.lastPresented >= 0 && meta.presentedFrames === this.lastPresented + 1) {
      const step = (meta.mediaTime - this.lastMediaTime) * 1000;
      if (step > 1 && step < 250) {
        this.steps.push(step);
        if (this.steps.length > 61) this.steps.shift();
      }
    }
    this.lastPresented = meta.presentedFrames;
    this.lastMediaTime = meta.mediaTime;
    if (!this.steps.length) return null;
    const sorted = [...this.steps].sort((a, b) => a - b);
    return sorted[sorted.length >> 1] as number;
  }
}

/** Sizes a canvas to its video element in device pixels; returns the picture's rect in canvas pixels. */
export function fitCanvas(canvas: HTMLCanvasElement, video: HTMLVideoElement): Rect {
  const dpr = window.devicePixelRatio || 1;
  const cw = Math.round(video.clientWidth * dpr);
  const ch = Math.round(video.clientHeight * dpr);
  if (canvas.width !== cw || canvas.height !== ch) {
    canvas.width = cw;
    canvas.height = ch;
  }
  return containRect(cw, ch, video.videoWidth, video.videoHeight);
}

/** A capture of the presented frame taken at most once (test builds, when `enabled`), on first use. */
export function frameShot(video: HTMLVideoElement, enabled: () => boolean): () => string | undefined {
  let taken = false;
  let png: string | undefined;
  return () => {
    if (!__VIGIL_TEST_HOOKS__ || !enabled()) return undefined;
    if (!taken) png = captureFrame(video);
    taken = true;
    return png;
  };
}
