// Stored rule evaluations of one camera over a recorded range (GET /api/cameras/:id/evaluations), and the choice of
// what to draw over one displayed frame of the recording: every evaluation computed on that very frame (its pdt
// within half a frame interval), or, when the frame was not evaluated, only the newest earlier result as a faint
// marker with its age. Pure logic (no DOM) apart from the fetch.
import type { CompactEvaluation, DetectionMessage } from '../../../server/wire.ts';
import type { ShownDetection } from '../detections.ts';

/** One stored evaluation as the API lists it. */
export type StoredEvaluation = CompactEvaluation;

/** What the overlay shows for one displayed frame. */
export interface FrameResults {
  /** Evaluations computed on the displayed frame itself (drawn in full). */
  exact: ShownDetection[];
  /** Newest evaluation before the frame when none is exact (a faint marker), with its age (ms). */
  last: { evaluation: StoredEvaluation; ageMs: number } | null;
}

/** The API serves at most this much per request (GET /api/cameras/:id/evaluations). */
export const EVALUATION_WINDOW_MS = 10 * 60_000;

export async function fetchEvaluations(camera: string, from: number, to: number): Promise<StoredEvaluation[]> {
  const res = await fetch(`/api/cameras/${encodeURIComponent(camera)}/evaluations?from=${Math.floor(from)}&to=${Math.ceil(to)}`, { cache: 'no-store' });
  if (!res.ok) throw new Error(`evaluations: HTTP ${res.status}`);
  const body = (await res.json()) as StoredEvaluation[] | { evaluations: StoredEvaluation[] };
  return Array.isArray(body) ? body : body.evaluations;
}

/** Every evaluation of [from, to], window by window (oldest first), handing each window over as it arrives. */
export async function fetchAllEvaluations(camera: string, from: number, to: number, onWindow: (list: StoredEvaluation[]) => void): Promise<void> {
  for (let start = from; start < to; start += EVALUATION_WINDOW_MS) {
    // Windows overlap at their shared edge (the API's range is closed): the index drops the repeats.
    onWindow(await fetchEvaluations(camera, start, Math.min(to, start + EVALUATION_WINDOW_MS)));
  }
}

/** A stored evaluation in the shape the live painter draws (a recording has no run and no change-gate flag). */
export function asDetection(camera: string, e: StoredEvaluation): DetectionMessage {
  return { camera, run: 0, pdt: e.pdt, rule: e.rule, outcome: e.outcome, positive: e.positive, gated: false, boxes: e.boxes ?? [], points: e.points ?? [], count: e.count, answer: e.answer, sourceW: e.sourceW, sourceH: e.sourceH };
}

export class EvaluationIndex {
  private list: StoredEvaluation[] = [];

  constructor(
    private readonly camera: string,
    evaluations: StoredEvaluation[] = [],
  ) {
    this.add(evaluations);
  }

  /** Adds evaluations (any order; one already held, same pdt and rule, is not added twice). */
  add(evaluations: StoredEvaluation[]): void {
    const seen = new Set(this.list.map((e) => `${e.pdt}|${e.rule}`));
    const fresh = evaluations.filter((e) => !seen.has(`${e.pdt}|${e.rule}`));
    if (fresh.length) this.list = [...this.list, ...fresh].sort((a, b) => a.pdt - b.pdt);
  }

  get size(): number {
    return this.list.length;
  }

  /** Index of the first evaluation with pdt >= `pdt` (binary search). */
  private lowerBound(pdt: number): number {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.list[mid]!.pdt < pdt) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Results for the frame shown at `pdt`; `rule` null: every rule. */
  forFrame(pdt: number, frameIntervalMs: number, rule: string | null): FrameResults {
    const half = frameIntervalMs / 2;
    const keep = (e: StoredEvaluation) => rule === null || e.rule === rule;
    const exact: ShownDetection[] = [];
    for (let i = this.lowerBound(pdt - half); i < this.list.length && this.list[i]!.pdt <= pdt + half; i++) {
      const e = this.list[i]!;
      if (keep(e)) exact.push({ msg: asDetection(this.camera, e), exact: true, ageMs: pdt - e.pdt });
    }
    if (exact.length > 0) return { exact, last: null };
    for (let i = this.lowerBound(pdt - half) - 1; i >= 0; i--) {
      const e = this.list[i]!;
      if (keep(e)) return { exact, last: { evaluation: e, ageMs: pdt - e.pdt } };
    }
    return { exact, last: null };
  }
}
