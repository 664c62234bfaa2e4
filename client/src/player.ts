// One camera's live player: hls.js with low-latency live settings (streaming.md), a canvas overlay,
// and an explicit lifecycle. The Hls instance is destroyed and re-created whenever the camera's run
// changes (a new ffmpeg run writes a fresh playlist with new PDT anchors) or it goes offline.
import Hls, { type ErrorData, type FragBufferedData } from 'hls.js';
import type { CameraInfo } from '../../server/wire.ts';
import type { FrameBuffer } from './frames.ts';
import type { DetectionBuffer } from './detections.ts';
import { Overlay, pdtAt, type FragTime } from './overlay.ts';

/** What a player reads for its overlay; shared by every player of the page. */
export interface PlayerSources {
  frames: FrameBuffer;
  detections: DetectionBuffer;
  ruleName(id: string): string;
}

const HLS_CONFIG = {
  liveSyncDurationCount: 1,
  liveMaxLatencyDurationCount: 3,
  maxLiveSyncPlaybackRate: 1.5,
  backBufferLength: 10,
  maxBufferLength: 6,
  enableWorker: true,
  lowLatencyMode: false,
} as const;

const RETRY_MS = 1500;
const FRAG_CACHE = 40;

export class CameraPlayer {
  readonly el: HTMLDivElement;
  readonly overlay: Overlay;
  readonly video: HTMLVideoElement;
  private hls: Hls | null = null;
  private run = -1;
  private frags = new Map<number, FragTime>();
  private retry: ReturnType<typeof setTimeout> | null = null;
  private vfc = 0;
  private raf = 0;
  private rafFrames = 0;
  private destroyed = false;
  latencyMs: number | null = null;

  constructor(
    private cam: CameraInfo,
    private readonly src: PlayerSources,
  ) {
    this.el = document.createElement('div');
    this.el.className = 'player';
    this.video = document.createElement('video');
    this.video.muted = true;
    this.video.playsInline = true;
    this.video.autoplay = true;
    const canvas = document.createElement('canvas');
    canvas.className = 'overlay';
    this.el.append(this.video, canvas);
    this.overlay = new Overlay(canvas, this.video, cam.id, (id) => src.ruleName(id), src.detections.maxAgeMs);
    this.update(cam);
  }

  /** Applies a camera state change: (re)loads when a new run's playlist is ready, stops when the run ends. */
  update(cam: CameraInfo): void {
    this.cam = cam;
    if (this.destroyed) return;
    if (cam.state === 'offline' || cam.state === 'disabled') return this.stop();
    if (!this.playable()) return;
    if (cam.hlsRun !== this.run || (!this.hls && !this.retry)) this.load();
  }

  /** Live, and the playlist on disk is this run's (not the previous run's, still there at its start). */
  private playable(): boolean {
    return this.cam.state === 'live' && this.cam.hlsRun !== null && this.cam.hlsRun === this.cam.run;
  }

  destroy(): void {
    this.destroyed = true;
    this.stop();
    this.el.remove();
  }

  private load(): void {
    this.stop();
    if (!Hls.isSupported()) return;
    this.run = this.cam.hlsRun ?? this.cam.run;
    const hls = new Hls(HLS_CONFIG);
    this.hls = hls;
    hls.on(Hls.Events.FRAG_BUFFERED, (_e, data: FragBufferedData) => this.rememberFrag(data));
    hls.on(Hls.Events.ERROR, (_e, data: ErrorData) => this.onError(hls, data));
    hls.loadSource(`${this.cam.hls}?run=${this.run}`);
    hls.attachMedia(this.video);
    void this.video.play().catch(() => undefined);
    if ('requestVideoFrameCallback' in this.video) this.vfc = this.video.requestVideoFrameCallback((now, meta) => this.onFrame(now, meta));
    else this.raf = requestAnimationFrame(() => this.onAnimationFrame());
  }

  private stop(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    if (this.vfc) this.video.cancelVideoFrameCallback(this.vfc);
    if (this.raf) cancelAnimationFrame(this.raf);
    this.vfc = this.raf = 0;
    this.hls?.destroy();
    this.hls = null;
    this.frags.clear();
    this.overlay.clear();
    this.video.removeAttribute('src');
    this.video.load();
  }

  private rememberFrag({ frag }: FragBufferedData): void {
    if (typeof frag.sn !== 'number' || frag.programDateTime === null) return;
    this.frags.set(frag.sn, { sn: frag.sn, start: frag.start, duration: frag.duration, pdt: frag.programDateTime });
    if (this.frags.size > FRAG_CACHE) this.frags.delete(this.frags.keys().next().value as number);
  }

  private onFrame(_now: number, meta: VideoFrameCallbackMetadata): void {
    this.vfc = this.video.requestVideoFrameCallback((n, m) => this.onFrame(n, m));
    this.drawFor(meta, pdtAt(this.liveFrags(), meta.mediaTime));
  }

  /**
   * Without requestVideoFrameCallback (older browsers) the frame on screen is not known exactly: hls.js's
   * playingDate (fragment PDT + offset, within about a frame) stands in, once per animation frame.
   */
  private onAnimationFrame(): void {
    this.raf = requestAnimationFrame(() => this.onAnimationFrame());
    const meta = { mediaTime: this.video.currentTime, presentedFrames: ++this.rafFrames, expectedDisplayTime: performance.now() } as VideoFrameCallbackMetadata;
    this.drawFor(meta, this.hls?.playingDate?.getTime() ?? null);
  }

  private drawFor(meta: VideoFrameCallbackMetadata, displayedPdt: number | null): void {
    if (displayedPdt !== null) this.latencyMs = performance.timeOrigin + meta.expectedDisplayTime - displayedPdt;
    const id = this.cam.id;
    const run = this.run;
    this.overlay.draw(meta, displayedPdt, {
      nearestFrame: (p) => this.src.frames.nearest(id, run, p),
      detections: (p, interval) => this.src.detections.forFrame(id, run, p, interval),
    });
  }

  /** Buffered fragments, with hls.js's own (PTS-corrected) timing taking precedence. */
  private liveFrags(): Iterable<FragTime> {
    const details = this.hls?.levels[Math.max(0, this.hls.currentLevel)]?.details;
    for (const f of details?.fragments ?? []) {
      if (this.frags.has(f.sn) && f.programDateTime !== null) this.frags.set(f.sn, { sn: f.sn, start: f.start, duration: f.duration, pdt: f.programDateTime });
    }
    return this.frags.values();
  }

  private onError(hls: Hls, data: ErrorData): void {
    if (!data.fatal || hls !== this.hls) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
      hls.recoverMediaError();
      return;
    }
    // Playlist not written yet, segment gone, server restarting: start over shortly.
    this.stop();
    this.retry = setTimeout(() => {
      this.retry = null;
      if (!this.destroyed && this.playable()) this.load();
    }, RETRY_MS);
  }
}
