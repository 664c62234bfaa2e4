// A recorded range of one camera played with hls.js from the server's VOD playlist (EXT-X-PROGRAM-DATE-TIME on
// every segment), with the stored evaluations drawn over the frame on screen. For each presented frame
// (requestVideoFrameCallback: also after a seek or a frame step while paused) the frame's pdt is its fragment's
// programDateTime plus its offset into the fragment (pdtAt, as the live overlay does); evaluations computed on that
// pdt (within half a frame interval) are drawn in full by the live painter, any other frame shows only a faint marker
// of the last result and its age. No offset knob: the recording and the analysis share the same pdt.
import Hls, { type ErrorData, type FragBufferedData } from 'hls.js';
import type { DrawnBox } from '../draw-detections.ts';
import { DetectionPainter } from '../draw-detections.ts';
import { ageLabel } from '../detections.ts';
import { fitCanvas, FrameInterval, frameShot, pdtAt, type FragTime, type Rect } from '../overlay.ts';
import type { EvaluationIndex, FrameResults, StoredEvaluation } from './evaluations.ts';
import { current } from './current.ts';

/** One presented frame of the recording (window.__vigil.playback in test builds). */
export interface PlaybackDraw {
  displayedPdt: number;
  mediaTime: number;
  paused: boolean;
  boxes: DrawnBox[];
  /** pdt of the evaluations drawn in full (null: the frame was not evaluated). */
  evaluatedPdt: number | null;
  /** The faint marker's text when the frame was not evaluated. */
  marker: string | null;
  /** PNG of the presented frame (test builds with `capture` on, frames with boxes only). */
  capture?: string;
}

export interface PlaybackDebug {
  camera: string;
  displayedPdt: number | null;
  mediaTime: number;
  frameIntervalMs: number;
  presentedCount: number;
  evaluations: number;
  last: PlaybackDraw | null;
  /** Recent frames with boxes drawn (bounded). */
  draws: PlaybackDraw[];
  capture: boolean;
}

const HLS_CONFIG = { enableWorker: true, lowLatencyMode: false, maxBufferLength: 20, backBufferLength: 30 } as const;
const DRAW_HISTORY = 60;


export class RecordedPlayer {
  readonly debug: PlaybackDebug;
  /** Only this rule's evaluations (null: every rule). */
  rule: string | null = null;
  private readonly hls: Hls;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly painter: DetectionPainter;
  private readonly interval = new FrameInterval();
  private frags: FragTime[] = [];
  private vfc = 0;
  private destroyed = false;
  onError: (message: string) => void = () => undefined;
  /** The pdt of the frame to open on (an event's best frame) instead of the range's first; set before the playlist loads. */
  openAt: number | null = null;

  constructor(
    readonly video: HTMLVideoElement,
    private readonly canvas: HTMLCanvasElement,
    camera: string,
    playlist: string,
    private readonly evaluations: EvaluationIndex,
    ruleName: (id: string) => string,
  ) {
    this.ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
    this.painter = new DetectionPainter(this.ctx, ruleName, 15_000);
    this.debug = { camera, displayedPdt: null, mediaTime: 0, frameIntervalMs: 1000 / 30, presentedCount: 0, evaluations: evaluations.size, last: null, draws: [], capture: false };
    this.hls = new Hls(HLS_CONFIG);
    this.hls.on(Hls.Events.FRAG_BUFFERED, (_e, data: FragBufferedData) => this.rememberFrag(data));
    this.hls.on(Hls.Events.LEVEL_LOADED, () => {
      this.refreshFrags();
      this.openAtFrame();
    });
    this.hls.on(Hls.Events.ERROR, (_e, data: ErrorData) => this.handleError(data));
    this.hls.loadSource(playlist);
    this.hls.attachMedia(video);
    this.vfc = video.requestVideoFrameCallback((n, m) => this.onFrame(n, m));
    current.playback = this.debug;
  }

  /** More stored evaluations arrived (the API serves them window by window). */
  addEvaluations(list: StoredEvaluation[]): void {
    this.evaluations.add(list);
    this.debug.evaluations = this.evaluations.size;
    this.redraw();
  }

  /** Seconds of one frame (from presented frames; 1/30 until measured). */
  get frameSeconds(): number {
    return this.debug.frameIntervalMs / 1000;
  }

  /** Pauses and shows the next (+1) or previous (-1) frame. */
  step(direction: 1 | -1): void {
    this.video.pause();
    // From the frame on screen (its exact media time), a little past the target frame's start so rounding never
    // lands on the frame before it.
    const base = this.debug.presentedCount > 0 ? this.debug.mediaTime : this.video.currentTime;
    this.video.currentTime = Math.max(0, base + direction * this.frameSeconds + this.frameSeconds * 0.25);
  }

  /** Draws again for the frame on screen (after a rule filter change while paused). */
  redraw(): void {
    if (this.debug.displayedPdt !== null) this.draw(this.debug.displayedPdt, this.debug.mediaTime, () => undefined);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.video.cancelVideoFrameCallback(this.vfc);
    this.hls.destroy();
    if (current.playback === this.debug) current.playback = null;
  }

  private rememberFrag({ frag }: FragBufferedData): void {
    if (typeof frag.sn !== 'number' || frag.programDateTime === null) return;
    this.refreshFrags();
  }

  /** hls.js's own (PTS-corrected) fragment timing for the whole VOD playlist. */
  /** Seeks once to `openAt`, as soon as the playlist tells where its fragments start. */
  private openAtFrame(): void {
    const at = this.openAt;
    if (at === null) return;
    const f = this.frags.find((x) => x.pdt <= at && at < x.pdt + x.duration * 1000);
    if (!f) return;
    this.openAt = null;
    // A quarter frame past the frame's start, so rounding never lands on the frame before it (as step() does).
    this.video.currentTime = f.start + (at - f.pdt) / 1000 + this.frameSeconds * 0.25;
  }

  private refreshFrags(): void {
    const details = this.hls.levels[Math.max(0, this.hls.currentLevel)]?.details;
    this.frags = (details?.fragments ?? []).flatMap((f) => (typeof f.sn === 'number' && f.programDateTime !== null ? [{ sn: f.sn, start: f.start, duration: f.duration, pdt: f.programDateTime }] : []));
  }

  private onFrame(_now: number, meta: VideoFrameCallbackMetadata): void {
    if (this.destroyed) return;
    this.vfc = this.video.requestVideoFrameCallback((n, m) => this.onFrame(n, m));
    // Measured while playing at up to 1x: faster playback drops frames, a pause presents seeks.
    this.debug.frameIntervalMs = this.interval.observe(meta, !this.video.paused && this.video.playbackRate <= 1) ?? this.debug.frameIntervalMs;
    this.debug.presentedCount++;
    this.debug.mediaTime = meta.mediaTime;
    const pdt = pdtAt(this.frags, meta.mediaTime);
    this.debug.displayedPdt = pdt;
    if (pdt === null) return this.clear();
    this.draw(pdt, meta.mediaTime, this.shotOnce());
  }

  private draw(pdt: number, mediaTime: number, shot: () => string | undefined): void {
    const rect = this.resize();
    this.clear();
    const results = this.evaluations.forFrame(pdt, this.debug.frameIntervalMs, this.rule);
    const dpr = window.devicePixelRatio || 1;
    const boxes = results.exact.length > 0 ? this.painter.paint(rect, results.exact, dpr) : [];
    const marker = results.last ? this.marker(rect, results, dpr) : null;
    const d: PlaybackDraw = { displayedPdt: pdt, mediaTime, paused: this.video.paused, boxes, evaluatedPdt: results.exact[0]?.msg.pdt ?? null, marker };
    this.debug.last = d;
    if (boxes.length === 0) return;
    const png = shot();
    if (png) d.capture = png;
    this.debug.draws.push(d);
    if (this.debug.draws.length > DRAW_HISTORY) this.debug.draws.shift();
  }

  /** The faint corner note on a frame that was not evaluated: the last result before it, and how old it is. */
  private marker(rect: Rect, results: FrameResults, dpr: number): string {
    const { evaluation: e, ageMs } = results.last!;
    const what = e.outcome === 'positive' || e.outcome === 'negative' ? (e.positive ? 'positive' : 'negative') : e.outcome;
    const text = `last: ${e.rule} ${what} · ${ageLabel(ageMs)}`;
    const ctx = this.ctx;
    ctx.save();
    ctx.globalAlpha = 0.45;
    ctx.font = `${Math.round(11 * dpr)}px system-ui, sans-serif`;
    ctx.fillStyle = '#000';
    const w = ctx.measureText(text).width + 8 * dpr;
    const y = rect.y + rect.h - 22 * dpr;
    ctx.fillRect(rect.x + 6 * dpr, y, w, 17 * dpr);
    ctx.fillStyle = e.positive ? '#ffb3b3' : '#dde4ea';
    ctx.fillText(text, rect.x + 10 * dpr, y + 12.5 * dpr);
    ctx.restore();
    return text;
  }

  private clear(): void {
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** At most one PNG per presented frame (test builds with capture on), taken on first use. */
  private shotOnce(): () => string | undefined {
    return frameShot(this.video, () => this.debug.capture);
  }

  private resize(): Rect {
    return fitCanvas(this.canvas, this.video);
  }

  private handleError(data: ErrorData): void {
    if (!data.fatal || this.destroyed) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) return this.hls.recoverMediaError();
    this.onError(`The recording could not be loaded (${data.details}). Check that video exists for this range on the camera's strip.`);
  }
}
