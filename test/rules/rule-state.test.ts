// The alert state machine per (rule, camera), on video time: N of M to open, K negatives to close (at the first
// negative), updates on a larger count, splits at the max length, cooldown, forced closes. The worked example of
// docs/rules.md is the first test, so the docs cannot drift from the code.
import { describe, it, expect } from 'vitest';
import { RuleState, type Phase } from '../../pipelines/rules/rule-state.ts';
import { RuleSchema, type RuleInput } from '../../config/rule.ts';
import type { StateChange } from '../../pipelines/rules/types.ts';

const T0 = Date.parse('2026-02-02T12:00:00Z');
const settings = (r: Partial<RuleInput> = {}) => RuleSchema.parse({ id: 'r', kind: 'detect', question: 'q', ...r });

/** Feeds "P"/"N" (optionally "P3" for a count of 3) one per second from T0 and returns [second, change] pairs and phases. */
function play(state: RuleState, script: string, stepSec = 1, from = 0): { changes: [number, StateChange][]; phases: Phase[] } {
  const changes: [number, StateChange][] = [];
  const phases: Phase[] = [];
  script
    .trim()
    .split(/\s+/)
    .forEach((tok, i) => {
      const sec = from + i * stepSec;
      const positive = tok[0] === 'P';
      const count = positive ? Number(tok.slice(1) || 1) : 0;
      for (const c of state.observe({ pdt: T0 + sec * 1000, positive, count })) changes.push([sec, c]);
      phases.push(state.phase);
    });
  return { changes, phases };
}
const at = (sec: number) => T0 + sec * 1000;

describe('RuleState with the defaults (2 of 3, 3 negatives, cooldown 60 s)', () => {
  it('follows the worked example of docs/rules.md', () => {
    const s = new RuleState(settings());
    // t=0..11: N P N P P2 P P N N P N N N ... then a positive in the cooldown and one after it.
    const { changes, phases } = play(s, 'N P N P P2 P P N N P N N N');
    expect(phases).toEqual(['idle', 'pending', 'pending', 'open', 'open', 'open', 'open', 'closing', 'closing', 'open', 'closing', 'closing', 'cooldown']);
    expect(changes).toEqual([
      [3, { type: 'opened', pdt: at(1) }], // the first positive of the window that confirmed it
      [4, { type: 'updated', pdt: at(4), peak: 2, betterFrame: true }],
      [12, { type: 'closed', pdt: at(10), reason: 'negatives' }], // when the condition ended
    ]);
    expect(s.observe({ pdt: at(40), positive: true, count: 1 })).toEqual([]); // in the cooldown (until t=72)
    expect(s.observe({ pdt: at(71), positive: true, count: 1 })).toEqual([]);
    expect(s.phase).toBe('cooldown');
    expect(s.observe({ pdt: at(72), positive: true, count: 1 })).toEqual([]);
    expect(s.phase).toBe('pending'); // the first positive after the cooldown counts
    expect(s.observe({ pdt: at(73), positive: true, count: 1 })).toEqual([{ type: 'opened', pdt: at(72) }]);
  });

  it('does not open on isolated positives (1 of 3)', () => {
    const s = new RuleState(settings());
    const { changes, phases } = play(s, 'P N N P N N P N N');
    expect(changes).toEqual([]);
    expect(phases).toEqual(['pending', 'pending', 'pending', 'pending', 'pending', 'pending', 'pending', 'pending', 'pending']);
  });

  it('drops back to idle when the window holds only negatives', () => {
    const s = new RuleState(settings());
    const { phases } = play(s, 'P N N N');
    expect(phases).toEqual(['pending', 'pending', 'pending', 'idle']);
  });

  it('keeps a standing condition as one event until the max length', () => {
    const s = new RuleState(settings());
    const { changes } = play(s, Array(3000).fill('P').join(' '));
    expect(changes).toEqual([[1, { type: 'opened', pdt: at(0) }]]);
    expect(s.phase).toBe('open');
    expect(s.openSince).toBe(at(0));
  });

  it('updates only when the count grows', () => {
    const s = new RuleState(settings());
    const { changes } = play(s, 'P2 P2 P2 P1 P3 P3 N P4');
    expect(changes).toEqual([
      [1, { type: 'opened', pdt: at(0) }],
      [4, { type: 'updated', pdt: at(4), peak: 3, betterFrame: true }],
      [7, { type: 'updated', pdt: at(7), peak: 4, betterFrame: true }],
    ]);
    expect(s.peak).toBe(4);
  });

  it('keeps the event through a short gap: a positive in closing resumes it', () => {
    const s = new RuleState(settings());
    const { changes } = play(s, 'P P N N P N N P P');
    expect(changes).toEqual([[1, { type: 'opened', pdt: at(0) }]]);
    expect(s.phase).toBe('open');
  });
});

describe('RuleState with other settings', () => {
  it('opens on the first positive with trigger 1 of 1 and closes on the first negative with negatives 1', () => {
    const s = new RuleState(settings({ trigger: { n: 1, of: 1 }, end: { negatives: 1 }, cooldown: 0 }));
    const { changes, phases } = play(s, 'P N P');
    expect(changes).toEqual([
      [0, { type: 'opened', pdt: at(0) }],
      [1, { type: 'closed', pdt: at(1), reason: 'negatives' }],
      [2, { type: 'opened', pdt: at(2) }], // no cooldown
    ]);
    expect(phases).toEqual(['open', 'idle', 'open']);
  });

  it('splits at the max length without a cooldown when still positive', () => {
    const s = new RuleState(settings({ end: { maxSeconds: 10 } }));
    const { changes } = play(s, Array(25).fill('P').join(' '));
    expect(changes).toEqual([
      [1, { type: 'opened', pdt: at(0) }],
      [10, { type: 'closed', pdt: at(10), reason: 'max-length' }],
      [10, { type: 'opened', pdt: at(10) }],
      [20, { type: 'closed', pdt: at(20), reason: 'max-length' }],
      [20, { type: 'opened', pdt: at(20) }],
    ]);
    expect(s.peak).toBe(1);
  });

  it('goes to cooldown when the max length is reached on a negative', () => {
    const s = new RuleState(settings({ end: { maxSeconds: 5, negatives: 10 }, cooldown: 30 }));
    const { changes } = play(s, 'P P P N N N N P P');
    expect(changes).toEqual([
      [1, { type: 'opened', pdt: at(0) }],
      [5, { type: 'closed', pdt: at(5), reason: 'max-length' }],
    ]);
    expect(s.phase).toBe('cooldown');
  });

  it('measures the cooldown in video time from the closing evaluation, with wide spacing', () => {
    const s = new RuleState(settings({ cooldown: 60 }));
    // One evaluation every 10 s: the third negative (t=40) closes the event that ended at t=20; cooldown until t=100.
    const { changes } = play(s, 'P P N N N P P P P P', 10);
    expect(changes).toEqual([
      [10, { type: 'opened', pdt: at(0) }],
      [40, { type: 'closed', pdt: at(20), reason: 'negatives' }],
    ]);
    expect(s.phase).toBe('cooldown'); // the positives at t=50..90 were ignored
    expect(s.observe({ pdt: at(100), positive: true, count: 1 })).toEqual([]);
    expect(s.observe({ pdt: at(110), positive: true, count: 1 })).toEqual([{ type: 'opened', pdt: at(100) }]);
  });

  it('needs N positives among the last M, not in a row (3 of 5)', () => {
    const s = new RuleState(settings({ trigger: { n: 3, of: 5 } }));
    expect(play(s, 'P N P N P').changes).toEqual([[4, { type: 'opened', pdt: at(0) }]]);
    const t = new RuleState(settings({ trigger: { n: 3, of: 5 } }));
    // The positive at t=0 has left the window [N N N P P] by t=5; t=6 makes [N N P P P].
    expect(play(t, 'P N N N P P P').changes).toEqual([[6, { type: 'opened', pdt: at(4) }]]);
  });
});

describe('RuleState.forceClose and ordering', () => {
  it('closes an open or closing event now, and returns nothing otherwise', () => {
    const s = new RuleState(settings());
    expect(s.forceClose(at(0), 'shutdown')).toEqual([]);
    play(s, 'P P');
    expect(s.forceClose(at(5), 'schedule')).toEqual([{ type: 'closed', pdt: at(5), reason: 'schedule' }]);
    expect(s.phase).toBe('idle');
    expect(s.openSince).toBeNull();
    play(s, 'P P N', 1, 10);
    expect(s.phase).toBe('closing');
    expect(s.forceClose(at(13), 'rule-changed')).toEqual([{ type: 'closed', pdt: at(13), reason: 'rule-changed' }]);
    expect(s.forceClose(at(14), 'rule-changed')).toEqual([]);
  });

  it('forgets a pending confirmation when evaluation stops', () => {
    const s = new RuleState(settings());
    play(s, 'P');
    expect(s.forceClose(at(1), 'schedule')).toEqual([]);
    expect(s.phase).toBe('idle');
    expect(s.observe({ pdt: at(2), positive: true, count: 1 })).toEqual([]); // needs 2 again
  });

  it('ignores an evaluation not newer than the last one', () => {
    const s = new RuleState(settings());
    play(s, 'P');
    expect(s.observe({ pdt: at(0), positive: true, count: 1 })).toEqual([]);
    expect(s.observe({ pdt: at(-1), positive: true, count: 1 })).toEqual([]);
    expect(s.phase).toBe('pending');
    expect(s.observe({ pdt: at(1), positive: true, count: 1 })).toEqual([{ type: 'opened', pdt: at(0) }]);
  });
});
