// TEMPORARY stand-ins for wt/core's rule-state.ts and change-gate.ts, with the
// signatures agreed for issue 9. Deleted once wt/core is merged (the loop then imports the real modules).
import sharp from 'sharp';
import type { Rule } from '../../config/rule.ts';
import type { CloseReason, StateChange } from './types.ts';

export type Phase = 'idle' | 'pending' | 'open' | 'closing' | 'cooldown';

export class RuleState {
  phase: Phase = 'idle';
  openSince: number | null = null;
  peak = 0;
  private window: boolean[] = [];
  private negatives = 0;
  private cooldownUntil = -Infinity;
  constructor(private readonly rule: Rule) {}

  observe(e: { pdt: number; positive: boolean; count: number | null }): StateChange[] {
    const r = this.rule;
    const count = e.count ?? 1;
    if (this.phase === 'open' || this.phase === 'closing') {
      if (e.positive) {
        this.negatives = 0;
        this.phase = 'open';
        if (count > this.peak) {
          this.peak = count;
          return [{ type: 'updated', pdt: e.pdt, peak: count, betterFrame: true }];
        }
        return [];
      }
      this.negatives++;
      this.phase = 'closing';
      if (this.negatives >= r.end.negatives) return [this.close(e.pdt, 'negatives')];
      return [];
    }
    if (e.pdt < this.cooldownUntil) return [];
    this.window = [...this.window, e.positive].slice(-r.trigger.of);
    const n = this.window.filter(Boolean).length;
    this.phase = n > 0 ? 'pending' : 'idle';
    if (n >= r.trigger.n) {
      this.phase = 'open';
      this.openSince = e.pdt;
      this.peak = e.positive ? count : 1;
      this.window = [];
      this.negatives = 0;
      return [{ type: 'opened', pdt: e.pdt }];
    }
    return [];
  }

  forceClose(pdt: number, reason: CloseReason): StateChange[] {
    if (this.phase !== 'open' && this.phase !== 'closing') return [];
    return [this.close(pdt, reason)];
  }

  private close(pdt: number, reason: CloseReason): StateChange {
    this.phase = 'cooldown';
    this.openSince = null;
    this.cooldownUntil = pdt + r0(this.rule.cooldown);
    return { type: 'closed', pdt, reason };
  }
}
const r0 = (s: number) => s * 1000;

export class ChangeGate {
  private last = new Map<string, { thumb: Buffer; pdt: number }>();
  private pending = new Map<string, Buffer>();
  constructor(private readonly o: { changeThreshold: number; forceEvery: number }) {}

  async check(camera: string, jpeg: Buffer, pdt: number): Promise<{ ask: boolean; diff: number | null; reason: string }> {
    const thumb = await sharp(jpeg).greyscale().resize(32, 32, { fit: 'fill' }).raw().toBuffer();
    this.pending.set(camera, thumb);
    const prev = this.last.get(camera);
    if (!prev || this.o.changeThreshold === 0) return { ask: true, diff: null, reason: 'first' };
    let sum = 0;
    for (let i = 0; i < thumb.length; i++) sum += Math.abs(thumb[i]! - prev.thumb[i]!);
    const diff = sum / thumb.length;
    if (pdt - prev.pdt >= this.o.forceEvery * 1000) return { ask: true, diff, reason: 'forced' };
    return diff >= this.o.changeThreshold ? { ask: true, diff, reason: 'changed' } : { ask: false, diff, reason: 'unchanged' };
  }

  accept(camera: string, pdt: number): void {
    const thumb = this.pending.get(camera);
    if (thumb) this.last.set(camera, { thumb, pdt });
  }

  reset(camera: string): void {
    this.last.delete(camera);
    this.pending.delete(camera);
  }
}
