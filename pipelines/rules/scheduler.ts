// Which frame goes to the engine next, and which rules ride on it.
// - One waiting frame per camera (the newest wins; an overwritten one is returned so the loop counts it).
// - Cameras take turns (round-robin: the least recently served camera with a waiting frame), one frame per camera in
//   work at a time (so a camera's rule states see its frames in order), at most `maxInFlight` at once.
// - A frame that waited longer than `maxFrameAgeMs` when its turn comes is handed back as stale, never asked.
// - A short history of recent frames per camera serves clip rules (frames `spacing` apart, newest last).
// - All due single-frame rules of a camera share ONE ask (one image encode), split only past the engine's
//   per-ask capacity; a clip rule asks alone, since its frames differ.
import type { Frame } from '../ingest/types.ts';
import type { ActiveRule, Rule } from './types.ts';

export interface SchedulerOptions {
  maxInFlight: number;
  maxFrameAgeMs: number;
  /** Wall clock for waiting times (tests may pass their own). */
  now?: () => number;
}

export interface Turn {
  frame: Frame;
  /** How long the frame waited for its turn (wall clock). */
  waitedMs: number;
  /** Waited past maxFrameAge: the caller drops it (it holds no in-flight slot). */
  stale: boolean;
}

/** Frames kept per camera for clips at most (a clip has at most 8 frames; this covers sparse spacing too). */
const HISTORY_MAX = 64;

export class FrameScheduler {
  private readonly pending = new Map<string, { frame: Frame; at: number }>();
  /** Cameras with a waiting frame, in the order they started waiting. */
  private readonly order: string[] = [];
  private readonly busy = new Set<string>();
  /** Turn number each camera was last served at: the least recently served waiting camera goes next. */
  private readonly served = new Map<string, number>();
  private turns = 0;
  private readonly history = new Map<string, Frame[]>();
  private readonly now: () => number;
  /** Milliseconds of history each camera keeps for its clip rules (0: none). */
  private clipSpan = new Map<string, number>();

  constructor(private readonly o: SchedulerOptions) {
    this.now = o.now ?? Date.now;
  }

  get inFlight(): number {
    return this.busy.size;
  }

  get waiting(): number {
    return this.pending.size;
  }

  /** Queues the camera's newest frame; returns the waiting frame it replaced, if any. */
  push(frame: Frame): Frame | null {
    this.remember(frame);
    const prev = this.pending.get(frame.camera);
    this.pending.set(frame.camera, { frame, at: this.now() });
    if (!prev) this.order.push(frame.camera);
    return prev?.frame ?? null;
  }

  /** The next camera's frame, or null when nothing waits or every slot is taken. Call done() after a non-stale turn. */
  next(): Turn | null {
    if (this.busy.size >= this.o.maxInFlight) return null;
    let i = -1;
    for (let k = 0; k < this.order.length; k++) {
      const c = this.order[k]!;
      if (this.busy.has(c)) continue;
      if (i < 0 || (this.served.get(c) ?? -1) < (this.served.get(this.order[i]!) ?? -1)) i = k;
    }
    if (i < 0) return null;
    const camera = this.order.splice(i, 1)[0]!;
    const { frame, at } = this.pending.get(camera)!;
    this.pending.delete(camera);
    const waitedMs = this.now() - at;
    const stale = waitedMs > this.o.maxFrameAgeMs;
    if (!stale) {
      this.busy.add(camera);
      this.served.set(camera, this.turns++);
    }
    return { frame, waitedMs, stale };
  }

  done(camera: string): void {
    this.busy.delete(camera);
  }

  /** Newest frame seen of a camera (waiting or not). */
  latest(camera: string): Frame | null {
    return this.history.get(camera)?.at(-1) ?? null;
  }

  /** Sets how much history each camera keeps for clip rules (from the active rules). */
  setClipSpans(spans: Map<string, number>): void {
    this.clipSpan = spans;
    for (const [camera, frames] of this.history) this.trim(camera, frames);
  }

  /**
   * The frames of a clip ending at `newest`: `frames` frames `spacing` seconds apart, newest last, each the
   * recorded frame of the same run and size nearest its target time. Null until the history spans the clip.
   */
  clip(newest: Frame, spec: NonNullable<Rule['clip']>): Frame[] | null {
    const same = (this.history.get(newest.camera) ?? []).filter(
      (f) => f.run === newest.run && f.width === newest.width && f.height === newest.height && f.pdt <= newest.pdt,
    );
    const step = spec.spacing * 1000;
    const out: Frame[] = [];
    for (let k = spec.frames - 1; k >= 1; k--) {
      const target = newest.pdt - k * step;
      const near = nearest(same, target);
      if (!near || Math.abs(near.pdt - target) >= step / 2 || out.includes(near) || near === newest) return null;
      out.push(near);
    }
    out.push(newest);
    return out;
  }

  forget(camera: string): void {
    this.history.delete(camera);
  }

  private remember(frame: Frame): void {
    const frames = this.history.get(frame.camera) ?? [];
    frames.push(frame);
    this.history.set(frame.camera, frames);
    this.trim(frame.camera, frames);
  }

  private trim(camera: string, frames: Frame[]): void {
    const span = this.clipSpan.get(camera) ?? 0;
    const newest = frames.at(-1)?.pdt ?? 0;
    // Keep the newest frame always (latest()); older ones only while a clip rule may need them.
    while (frames.length > 1 && (frames.length > HISTORY_MAX || newest - frames[0]!.pdt > span)) frames.shift();
  }
}

function nearest(frames: Frame[], pdt: number): Frame | null {
  let best: Frame | null = null;
  for (const f of frames) if (!best || Math.abs(f.pdt - pdt) < Math.abs(best.pdt - pdt)) best = f;
  return best;
}

/** Whether a rule watches a camera. */
export function watches(rule: Rule, camera: string): boolean {
  return rule.enabled && (rule.cameras === 'all' || rule.cameras.includes(camera));
}

/**
 * Whether a rule is due on a frame: never evaluated on the camera, or `every` (default: the camera's sample
 * interval) has passed in video time. Half a sample interval of slack, so sampling jitter does not make a
 * rule that runs every sample skip every other one.
 */
export function isDue(rule: Rule, lastPdt: number | undefined, pdt: number, sampleInterval: number): boolean {
  if (lastPdt === undefined) return true;
  const every = Math.max(rule.every ?? sampleInterval, sampleInterval) * 1000;
  return pdt - lastPdt >= every - (sampleInterval * 1000) / 2;
}

/** Milliseconds of history a camera needs for the clip rules watching it. */
export function clipSpans(rules: readonly ActiveRule[], cameras: readonly string[]): Map<string, number> {
  const spans = new Map<string, number>();
  for (const camera of cameras) {
    let span = 0;
    for (const { rule } of rules) {
      if (rule.clip && watches(rule, camera)) span = Math.max(span, rule.clip.spacing * (rule.clip.frames - 1) * 1000 + rule.clip.spacing * 500);
    }
    spans.set(camera, span);
  }
  return spans;
}

/** A rule due on a frame, with the frames it is asked about (one, or a clip). */
export interface DueRule {
  active: ActiveRule;
  frames: Frame[];
}

/** Groups due rules into asks: single-frame rules together (chunks of `maxPerAsk`), each clip rule alone. */
export function planAsks(due: readonly DueRule[], maxPerAsk: number | null): DueRule[][] {
  const single = due.filter((d) => d.frames.length === 1);
  const clips = due.filter((d) => d.frames.length > 1).map((d) => [d]);
  const size = maxPerAsk && maxPerAsk > 0 ? maxPerAsk : Math.max(1, single.length);
  const asks: DueRule[][] = [];
  for (let i = 0; i < single.length; i += size) asks.push(single.slice(i, i + size));
  return [...asks, ...clips];
}
