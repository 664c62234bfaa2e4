// The alert state of one rule on one camera, driven by evaluation outcomes in video time (pdt) only, so replaying
// recorded footage through it gives the same events as the live run. docs/rules.md has the transition table and
// a worked example; keep the two in step.
//
//   idle -> pending (a positive) -> open (N positives among the last M evaluations)
//   open -> closing (a negative) -> closed (K negatives in a row) -> cooldown -> idle
//   closing -> open (a positive: the same event goes on)
//   open/closing -> closed (max length) -> open again at once when still positive (a split)
import type { Rule } from '../../config/rule.ts';
import type { CloseReason, StateChange } from './types.ts';

export type Phase = 'idle' | 'pending' | 'open' | 'closing' | 'cooldown';

export interface Observation {
  pdt: number;
  positive: boolean;
  /** Objects (or the model's count) for object kinds; 1 for a yes/no or describe positive. */
  count: number;
}

type Settings = Pick<Rule, 'trigger' | 'end' | 'cooldown'>;

export class RuleState {
  #phase: Phase = 'idle';
  /** pending: the outcomes of the last M evaluations, oldest first, with their pdt. */
  #window: { pdt: number; positive: boolean }[] = [];
  #openSince: number | null = null;
  #peak = 0;
  /** closing: pdt of the first negative of the current run (when the condition ended) and the run's length. */
  #firstNegative = 0;
  #negatives = 0;
  #cooldownUntil = 0;
  #lastPdt = -Infinity;

  readonly rule: Settings;

  constructor(rule: Settings) {
    this.rule = rule;
  }

  get phase(): Phase {
    return this.#phase;
  }

  /** pdt the open event started at (the first positive of the window that confirmed it); null unless open or closing. */
  get openSince(): number | null {
    return this.#openSince;
  }

  /** Largest count seen by the open event (0 when none is open). */
  get peak(): number {
    return this.#peak;
  }

  /** One evaluation, in pdt order. Only positive/negative outcomes move the state; callers do not pass errors/skips. */
  observe(o: Observation): StateChange[] {
    // An evaluation older than one already seen cannot be placed in the window: ignoring it keeps replays exact.
    if (!(o.pdt > this.#lastPdt)) return [];
    this.#lastPdt = o.pdt;
    if (this.#phase === 'cooldown' && o.pdt >= this.#cooldownUntil) this.#phase = 'idle';
    switch (this.#phase) {
      case 'cooldown':
        return []; // positives in the cooldown do not count toward a new event
      case 'idle':
      case 'pending':
        return this.#confirm(o);
      case 'open':
      case 'closing':
        return this.#whileOpen(o);
    }
  }

  /** Close an open (or closing) event now: schedule ended, rule changed/removed, shutdown. Returns [] when none is open. */
  forceClose(pdt: number, reason: CloseReason): StateChange[] {
    const open = this.#phase === 'open' || this.#phase === 'closing';
    // Whatever was pending is dropped too: evaluation stops here, and a later start must confirm afresh.
    if (this.#phase !== 'cooldown') this.#reset('idle');
    return open ? [{ type: 'closed', pdt, reason }] : [];
  }

  /** idle/pending: count positives among the last M evaluations until N of them open an event. */
  #confirm(o: Observation): StateChange[] {
    if (this.#phase === 'idle' && !o.positive) return [];
    this.#phase = 'pending';
    this.#window.push({ pdt: o.pdt, positive: o.positive });
    if (this.#window.length > this.rule.trigger.of) this.#window.shift();
    const positives = this.#window.filter((w) => w.positive);
    if (positives.length >= this.rule.trigger.n) return this.#open(positives[0]!.pdt, o.count);
    if (positives.length === 0) this.#reset('idle');
    return [];
  }

  #open(since: number, count: number): StateChange[] {
    this.#reset('open');
    this.#openSince = since;
    this.#peak = count;
    return [{ type: 'opened', pdt: since }];
  }

  /** open/closing: updates on a larger count, closing on negatives, splitting at the maximum length. */
  #whileOpen(o: Observation): StateChange[] {
    if (o.pdt - this.#openSince! >= this.rule.end.maxSeconds * 1000) return this.#split(o);
    if (o.positive) {
      this.#phase = 'open';
      this.#negatives = 0;
      if (o.count <= this.#peak) return [];
      this.#peak = o.count;
      return [{ type: 'updated', pdt: o.pdt, peak: o.count, betterFrame: true }];
    }
    if (this.#phase === 'open') {
      this.#phase = 'closing';
      this.#firstNegative = o.pdt;
    }
    if (++this.#negatives < this.rule.end.negatives) return [];
    const closed: StateChange = { type: 'closed', pdt: this.#firstNegative, reason: 'negatives' };
    this.#startCooldown(o.pdt);
    return [closed];
  }

  /** The event reached its maximum length: close it, and open the next one now if the condition still holds. */
  #split(o: Observation): StateChange[] {
    const closed: StateChange = { type: 'closed', pdt: o.pdt, reason: 'max-length' };
    if (o.positive) return [closed, ...this.#open(o.pdt, o.count)];
    this.#startCooldown(o.pdt);
    return [closed];
  }

  /** Measured from the evaluation that closed the event: that is when the close was announced. */
  #startCooldown(pdt: number): void {
    this.#reset('cooldown');
    this.#cooldownUntil = pdt + this.rule.cooldown * 1000;
    if (this.rule.cooldown === 0) this.#phase = 'idle';
  }

  #reset(phase: Phase): void {
    this.#phase = phase;
    this.#window = [];
    this.#openSince = null;
    this.#peak = 0;
    this.#negatives = 0;
    this.#firstNegative = 0;
  }
}
