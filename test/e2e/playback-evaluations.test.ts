// The recorded overlay's choice for one displayed frame (playback/evaluations.ts): the evaluations computed on that
// very frame (within half a frame interval), optionally one rule's only; on any other frame nothing but the newest
// earlier result as a marker, with its age. The browser test (playback.test.ts) proves it end to end.
import { describe, expect, it } from 'vitest';
import { EvaluationIndex, type StoredEvaluation } from '../../client/src/playback/evaluations.ts';
import { parseRange } from '../../client/src/playback/playback-page.tsx';

const FRAME = 1000 / 30;
const T = 1_750_000_000_000;

function ev(rule: string, pdt: number, positive = true): StoredEvaluation {
  return { pdt, rule, outcome: positive ? 'positive' : 'negative', positive, boxes: [{ label: 'x', x1: 1, y1: 2, x2: 3, y2: 4, attributes: {} }], points: [], count: 1, answer: null, sourceW: 640, sourceH: 360 };
}

describe('EvaluationIndex.forFrame', () => {
  // Unsorted on purpose: the API's order is not relied on.
  const index = new EvaluationIndex('cam', [ev('b', T + 500, false), ev('a', T), ev('b', T), ev('a', T + 500)]);

  it('draws every rule evaluated on the displayed frame, within half a frame interval either side', () => {
    for (const pdt of [T, T + FRAME / 2 - 0.01, T - FRAME / 2 + 0.01]) {
      const r = index.forFrame(pdt, FRAME, null);
      expect(r.exact.map((s) => [s.msg.rule, s.msg.pdt, s.exact])).toEqual([
        ['a', T, true],
        ['b', T, true],
      ]);
      expect(r.last).toBeNull();
    }
    expect(index.forFrame(T, FRAME, null).exact[0]!.msg).toMatchObject({ camera: 'cam', boxes: [{ x1: 1 }], sourceW: 640, gated: false });
  });

  it('on a frame not evaluated draws nothing but the newest earlier result and its age (never a later one)', () => {
    const r = index.forFrame(T + FRAME, FRAME, null);
    expect(r.exact).toEqual([]);
    expect(r.last?.evaluation.pdt).toBe(T);
    expect(r.last?.ageMs).toBeCloseTo(FRAME, 2);
    const r2 = index.forFrame(T + 450, FRAME, null);
    expect(r2.exact).toEqual([]);
    expect(r2.last?.evaluation.pdt).toBe(T);
    expect(index.forFrame(T - FRAME, FRAME, null)).toEqual({ exact: [], last: null });
  });

  it("keeps to the event's rule when asked", () => {
    expect(index.forFrame(T + 500, FRAME, 'a').exact.map((s) => s.msg.rule)).toEqual(['a']);
    expect(index.forFrame(T + 500, FRAME, 'b').exact.map((s) => [s.msg.rule, s.msg.positive])).toEqual([['b', false]]);
    expect(index.forFrame(T + 600, FRAME, 'b').last?.evaluation).toMatchObject({ rule: 'b', pdt: T + 500 });
    expect(index.forFrame(T, FRAME, 'none')).toEqual({ exact: [], last: null });
  });
});

describe('parseRange (#/playback/<camera>?from=&to=&rule=)', () => {
  it('reads from, to and rule, and defaults to the last 10 minutes', () => {
    expect(parseRange(`from=${T}&to=${T + 9000}&rule=red`)).toEqual({ from: T, to: T + 9000, rule: 'red' });
    expect(parseRange('', T)).toEqual({ from: T - 600_000, to: T });
  });
});

describe('EvaluationIndex.add', () => {
  it('merges windows in pdt order and drops the repeat at a shared window edge', () => {
    const index = new EvaluationIndex('cam');
    index.add([ev('a', T + 1000), ev('a', T + 2000)]);
    index.add([ev('a', T + 2000), ev('a', T), ev('b', T + 2000)]);
    expect(index.size).toBe(4);
    expect(index.forFrame(T + 1500, FRAME, null).last?.evaluation.pdt).toBe(T + 1000);
    expect(index.forFrame(T + 2000, FRAME, null).exact.map((s) => s.msg.rule)).toEqual(['a', 'b']);
  });
});
