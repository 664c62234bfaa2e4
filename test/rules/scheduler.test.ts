// Pure parts of the loop: how due rules group into asks, when a rule is due, and that an answer without its
// value is an error (never a silent no).
import { describe, expect, it } from 'vitest';
import { RuleSchema, type RuleInput } from '../../config/rule.ts';
import type { EngineAnswer, VisionEngine } from '../../pipelines/engine/types.ts';
import type { Frame } from '../../pipelines/ingest/types.ts';
import { judgeAnswer } from '../../pipelines/rules/evaluate.ts';
import { isDue, planAsks, type DueRule } from '../../pipelines/rules/scheduler.ts';

const active = (r: Partial<RuleInput> & { id: string }) => ({ rule: RuleSchema.parse({ kind: 'detect', question: 'red square', ...r }), version: 1 });
const frame = (pdt = 0): Frame => ({ camera: 'a', run: 1, seq: 0, pts: 0, pdt, jpeg: Buffer.alloc(0), width: 224, height: 168, sourceW: 448, sourceH: 336 });
const engine = { info: { family: 'qwen2.5-vl', coordinateFrame: 'pixels' } } as unknown as VisionEngine;
const answer = (raw: string): EngineAnswer => ({
  questionId: 'q',
  raw,
  value: null,
  truncated: false,
  timings: { encodeMs: 0, prefillMs: 0, decodeMs: 0, totalMs: 1, promptTokens: 1, outputTokens: 1 },
});

describe('planAsks', () => {
  const f = frame();
  const single = (id: string): DueRule => ({ active: active({ id }), frames: [f] });
  it('puts every single-frame rule in one ask, or splits past the per-ask capacity', () => {
    const due = ['a', 'b', 'c', 'd', 'e'].map(single);
    expect(planAsks(due, null).map((g) => g.length)).toEqual([5]);
    expect(planAsks(due, 2).map((g) => g.map((d) => d.active.rule.id))).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });
  it('gives each clip rule an ask of its own', () => {
    const clip: DueRule = { active: active({ id: 'clip' }), frames: [frame(-1000), f] };
    expect(planAsks([single('a'), clip, single('b')], 8).map((g) => g.map((d) => d.active.rule.id))).toEqual([['a', 'b'], ['clip']]);
  });
});

describe('isDue', () => {
  it('runs a rule every sample by default, with half a sample of slack for jitter, and every `every` seconds when set', () => {
    const r = active({ id: 'a' }).rule;
    expect(isDue(r, undefined, 0, 0.5)).toBe(true);
    expect(isDue(r, 0, 480, 0.5)).toBe(true);
    expect(isDue(r, 0, 200, 0.5)).toBe(false);
    const slow = active({ id: 'b', every: 5 }).rule;
    expect(isDue(slow, 0, 4000, 0.5)).toBe(false);
    expect(isDue(slow, 0, 4900, 0.5)).toBe(true);
  });
});

describe('judgeAnswer', () => {
  it('makes a yes/no answer without "answer" an error, never a silent no', () => {
    const ev = judgeAnswer(active({ id: 'q', kind: 'yesno', question: 'Is it red?' }), frame(), 'p', answer('{"reason":"cannot tell"}'), engine);
    expect(ev).toMatchObject({ outcome: 'error', reason: 'INVALID_OUTPUT', raw: '{"reason":"cannot tell"}' });
  });
  it("keeps an engine's per-question error code", () => {
    const ev = judgeAnswer(active({ id: 'q' }), frame(), 'p', { ...answer('{'), error: Object.assign(new Error('cut'), { code: 'INVALID_OUTPUT' }) } as EngineAnswer, engine);
    expect(ev).toMatchObject({ outcome: 'error', reason: 'INVALID_OUTPUT' });
  });
  it('maps a positive detect answer to source pixels', () => {
    const ev = judgeAnswer(active({ id: 'q' }), frame(), 'p', answer('[{"bbox_2d":[10,20,50,60],"label":"red square"}]'), engine);
    expect(ev).toMatchObject({ outcome: 'positive', count: 1, boxes: [{ x1: 20, y1: 40, x2: 100, y2: 120 }] });
  });
});
