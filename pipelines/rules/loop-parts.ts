// Small pieces of the loop: per-camera ordering of state changes, live detection messages, gate repeats.
import type { Frame } from '../ingest/types.ts';
import type { DetectionMessage, Evaluation } from './types.ts';

/** Runs tasks one after another per key (a camera): state changes of a camera never interleave. */
export class KeyedSerial {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Resolves once every task queued so far has finished. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.tails.values()]);
  }
}

/** The answer text a detection carries: yes/no, the description, or null for object kinds. */
export function answerOf(ev: Evaluation): string | null {
  return ev.parsed?.answer ?? ev.parsed?.description ?? null;
}

export function toDetection(ev: Evaluation): DetectionMessage {
  return {
    camera: ev.camera,
    run: ev.run,
    pdt: ev.pdt,
    rule: ev.rule,
    outcome: ev.outcome,
    positive: ev.outcome === 'positive',
    gated: ev.gated,
    boxes: ev.boxes,
    points: ev.points,
    count: ev.count,
    answer: answerOf(ev),
    sourceW: ev.sourceW,
    sourceH: ev.sourceH,
  };
}

/** The change gate found the frame unchanged: the rule's last asked answer stands for this frame, no model call. */
export function repeatEvaluation(last: Evaluation, frame: Frame): Evaluation {
  return { ...last, camera: frame.camera, run: frame.run, pdt: frame.pdt, gated: true, prompt: null, raw: null, timings: null };
}
