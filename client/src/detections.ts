// Rule results buffered per camera, sorted by the pdt of the frame they were computed on, and the choice
// of what to draw over one displayed frame: per rule, the result computed on that very frame (within half a
// frame interval) when it arrived in time, otherwise the newest result before it, with its age.
// Pure logic (no DOM): test/e2e/detections.test.ts covers it.
import type { DetectionMessage } from '../../server/wire.ts';

/** One rule's result chosen for a displayed frame. */
export interface ShownDetection {
  msg: DetectionMessage;
  /** Computed on the displayed frame itself. */
  exact: boolean;
  /** Displayed pdt minus the result's pdt (ms); about 0 when exact. */
  ageMs: number;
}

export interface DetectionBufferOptions {
  /** Results kept per camera (the oldest go first). */
  capacity?: number;
  /** Older results are not drawn at all: a box that old says nothing about the picture. */
  maxAgeMs?: number;
}

/** Outcomes that carry a judgement of the picture; skipped/error results have no geometry to draw. */
const drawable = (m: DetectionMessage) => m.outcome === 'positive' || m.outcome === 'negative';

export class DetectionBuffer {
  private readonly byCamera = new Map<string, { run: number; list: DetectionMessage[] }>();
  private readonly capacity: number;
  readonly maxAgeMs: number;

  constructor(opts: DetectionBufferOptions = {}) {
    this.capacity = opts.capacity ?? 600;
    this.maxAgeMs = opts.maxAgeMs ?? 15_000;
  }

  push(m: DetectionMessage): void {
    let entry = this.byCamera.get(m.camera);
    // A new ffmpeg run restarts the PDT anchors: results of older runs are stale (and never drawn).
    if (!entry || m.run > entry.run) this.byCamera.set(m.camera, (entry = { run: m.run, list: [] }));
    if (m.run < entry.run) return;
    const list = entry.list;
    // Results mostly arrive in pdt order; several rules of one ask share a pdt. Insert after equals.
    let i = list.length;
    while (i > 0 && list[i - 1]!.pdt > m.pdt) i--;
    list.splice(i, 0, m);
    if (list.length > this.capacity) list.splice(0, list.length - this.capacity);
  }

  /**
   * What to draw over the frame of `run` shown at `pdt`: one entry per rule, its exact result when one was
   * computed within half a frame interval of `pdt`, else its newest result before `pdt` (never a later one:
   * that would draw the future), no older than maxAgeMs.
   */
  forFrame(camera: string, run: number, pdt: number, frameIntervalMs: number): ShownDetection[] {
    const entry = this.byCamera.get(camera);
    if (!entry || entry.run !== run) return [];
    const half = frameIntervalMs / 2;
    const byRule = new Map<string, ShownDetection>();
    for (const m of entry.list) {
      if (m.pdt > pdt + half) break;
      if (!drawable(m) || pdt - m.pdt > this.maxAgeMs) continue;
      // Sorted by pdt: a later result of the rule supersedes an earlier one (a newer negative clears an
      // older positive), and an exact one, when there is one, is the last candidate of its rule.
      byRule.set(m.rule, { msg: m, exact: Math.abs(m.pdt - pdt) <= half, ageMs: pdt - m.pdt });
    }
    return [...byRule.values()];
  }

  clear(camera: string): void {
    this.byCamera.delete(camera);
  }
}

/** "2.1 s old": how a held result is marked. */
export function ageLabel(ageMs: number): string {
  return `${(Math.max(0, ageMs) / 1000).toFixed(1)} s old`;
}
