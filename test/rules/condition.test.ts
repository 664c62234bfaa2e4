// Conditions: one parsed answer -> positive or not, with the objects that count (zones, `where`), per rule kind.
import { describe, it, expect } from 'vitest';
import { judge } from '../../pipelines/rules/condition.ts';
import { RuleSchema, type RuleInput } from '../../config/rule.ts';
import type { Box, ParsedAnswer } from '../../pipelines/vlm/parse.ts';

const src = { width: 1000, height: 1000 };
const rule = (r: Partial<RuleInput> & Pick<RuleInput, 'kind'>) => RuleSchema.parse({ id: 'r', question: 'q', ...r });
const b = (x1: number, y1: number, x2: number, y2: number, attributes: Record<string, unknown> = {}): Box => ({ label: 'person', x1, y1, x2, y2, attributes });
const parsed = (p: Partial<ParsedAnswer>): ParsedAnswer => ({ boxes: [], points: [], ...p });
// Left half of the frame on camera "gate".
const leftHalf = {
  gate: [
    [
      [0, 0],
      [0.5, 0],
      [0.5, 1],
      [0, 1],
    ] as [number, number][],
  ],
};

describe('detect', () => {
  it('is positive with at least one box by default and counts the boxes', () => {
    const r = rule({ kind: 'detect' });
    expect(judge(r, 'cam', parsed({}), src)).toEqual({ positive: false, boxes: [], points: [], count: 0, answer: null });
    const two = [b(0, 0, 10, 10), b(20, 20, 30, 30)];
    expect(judge(r, 'cam', parsed({ boxes: two }), src)).toEqual({ positive: true, boxes: two, points: [], count: 2, answer: null });
  });

  it('needs `min` matching objects', () => {
    const r = rule({ kind: 'detect', condition: { min: 3 } });
    expect(judge(r, 'cam', parsed({ boxes: [b(0, 0, 1, 1), b(2, 2, 3, 3)] }), src).positive).toBe(false);
    expect(judge(r, 'cam', parsed({ boxes: [b(0, 0, 1, 1), b(2, 2, 3, 3), b(4, 4, 5, 5)] }), src).positive).toBe(true);
  });

  it('keeps only boxes whose bottom centre lies in the camera zone; other cameras use the whole frame', () => {
    const r = rule({ kind: 'detect', zones: leftHalf });
    const standsLeft = b(100, 100, 300, 600); // bottom centre (200, 600)
    const leansOver = b(400, 100, 700, 600); // overlaps the zone, bottom centre (550, 600) is outside
    const j = judge(r, 'gate', parsed({ boxes: [standsLeft, leansOver] }), src);
    expect(j.boxes).toEqual([standsLeft]);
    expect(j.count).toBe(1);
    expect(judge(r, 'yard', parsed({ boxes: [standsLeft, leansOver] }), src).count).toBe(2);
    expect(judge(r, 'gate', parsed({ boxes: [leansOver] }), src).positive).toBe(false);
  });

  it('uses the rule anchor', () => {
    const topHalf = { gate: [[[0, 0], [1, 0], [1, 0.5], [0, 0.5]] as [number, number][]] };
    const tall = b(100, 300, 200, 900); // top centre (150, 300) in the top half, bottom centre (150, 900) not
    expect(judge(rule({ kind: 'detect', zones: topHalf }), 'gate', parsed({ boxes: [tall] }), src).count).toBe(0);
    expect(judge(rule({ kind: 'detect', zones: topHalf, anchor: 'top' }), 'gate', parsed({ boxes: [tall] }), src).count).toBe(1);
    expect(judge(rule({ kind: 'detect', zones: topHalf, anchor: 'center' }), 'gate', parsed({ boxes: [tall] }), src).count).toBe(0); // centre y 600
    expect(judge(rule({ kind: 'detect', zones: topHalf, anchor: 'center' }), 'gate', parsed({ boxes: [b(100, 100, 200, 700)] }), src).count).toBe(1); // centre y 400
  });

  it('filters by `where` on attribute values; an object without the attribute does not match', () => {
    const r = rule({ kind: 'detect', attributes: ['helmet:boolean'], condition: { where: { helmet: false } } });
    const bare = b(0, 0, 10, 10, { helmet: false });
    const j = judge(r, 'cam', parsed({ boxes: [b(0, 0, 10, 10, { helmet: true }), bare, b(0, 0, 20, 20)] }), src);
    expect(j.boxes).toEqual([bare]);
    expect(j.positive).toBe(true);
    expect(judge(r, 'cam', parsed({ boxes: [b(0, 0, 10, 10, { helmet: true })] }), src).positive).toBe(false);
  });
});

describe('point', () => {
  it('uses each point as its own anchor, with zones and `where`', () => {
    const r = rule({ kind: 'point', attributes: ['open:boolean'], zones: leftHalf, condition: { where: { open: true } } });
    const p = { label: 'door', x: 100, y: 500, attributes: { open: true } };
    const pts = [p, { label: 'door', x: 900, y: 500, attributes: { open: true } }, { label: 'door', x: 200, y: 500, attributes: { open: false } }, { label: 'door', x: 200, y: 500 }];
    expect(judge(r, 'gate', parsed({ points: pts, boxes: [b(0, 0, 10, 10)] }), src)).toEqual({ positive: true, boxes: [], points: [p], count: 1, answer: null });
    expect(judge(r, 'gate', parsed({ points: pts.slice(1) }), src).positive).toBe(false);
  });
});

describe('count', () => {
  const three = [b(0, 0, 10, 10), b(600, 0, 700, 100), b(0, 200, 10, 210)];
  it("compares the model's count with op and value", () => {
    const r = rule({ kind: 'count', condition: { op: '>', value: 4 } });
    expect(judge(r, 'cam', parsed({ count: 5, boxes: three }), src)).toEqual({ positive: true, boxes: three, points: [], count: 5, answer: null });
    expect(judge(r, 'cam', parsed({ count: 4 }), src).positive).toBe(false);
  });

  it('defaults to >= 1 and falls back to the number of boxes', () => {
    const r = rule({ kind: 'count' });
    expect(judge(r, 'cam', parsed({ boxes: three }), src)).toMatchObject({ positive: true, count: 3 });
    expect(judge(r, 'cam', parsed({ count: 0 }), src)).toMatchObject({ positive: false, count: 0 });
  });

  it('counts matching boxes, not the model number, when zones or `where` apply', () => {
    const r = rule({ kind: 'count', zones: leftHalf, condition: { op: '==', value: 2 } });
    expect(judge(r, 'gate', parsed({ count: 3, boxes: three }), src)).toMatchObject({ positive: true, count: 2, boxes: [three[0], three[2]] });
    expect(judge(r, 'yard', parsed({ count: 3, boxes: three }), src)).toMatchObject({ positive: false, count: 3 });
  });

  it.each([
    ['>=', 2, true],
    ['>', 2, false],
    ['<=', 2, true],
    ['<', 2, false],
    ['==', 2, true],
    ['!=', 2, false],
    ['<', 3, true],
    ['!=', 3, true],
  ] as const)('%s %d with count 2 -> %s', (op, value, want) => {
    expect(judge(rule({ kind: 'count', condition: { op, value } }), 'cam', parsed({ count: 2 }), src).positive).toBe(want);
  });
});

describe('yesno', () => {
  it('is positive on the expected answer, "yes" by default', () => {
    expect(judge(rule({ kind: 'yesno' }), 'cam', parsed({ answer: 'yes' }), src)).toEqual({ positive: true, boxes: [], points: [], count: null, answer: 'yes' });
    expect(judge(rule({ kind: 'yesno' }), 'cam', parsed({ answer: 'no' }), src)).toMatchObject({ positive: false, answer: 'no' });
    expect(judge(rule({ kind: 'yesno', condition: { answer: 'no' } }), 'cam', parsed({ answer: 'no' }), src).positive).toBe(true);
  });

  it('reports a missing answer as null, never as a silent "no"', () => {
    expect(judge(rule({ kind: 'yesno', condition: { answer: 'no' } }), 'cam', parsed({}), src)).toEqual({ positive: false, boxes: [], points: [], count: null, answer: null });
  });
});

describe('describe', () => {
  it('is positive when the description contains one of the words, case-insensitively', () => {
    const r = rule({ kind: 'describe', condition: { contains: ['smoke', 'Open Flame'] } });
    expect(judge(r, 'cam', parsed({ description: 'Thick SMOKE rises from a bin.' }), src)).toEqual({ positive: true, boxes: [], points: [], count: null, answer: 'Thick SMOKE rises from a bin.' });
    expect(judge(r, 'cam', parsed({ description: 'An open flame near the door' }), src).positive).toBe(true);
    expect(judge(r, 'cam', parsed({ description: 'An empty corridor.' }), src).positive).toBe(false);
  });

  it('only records without `contains`, and has no answer when the model gave no description', () => {
    expect(judge(rule({ kind: 'describe' }), 'cam', parsed({ description: 'smoke' }), src)).toMatchObject({ positive: false, answer: 'smoke' });
    expect(judge(rule({ kind: 'describe', condition: { contains: ['smoke'] } }), 'cam', parsed({}), src)).toMatchObject({ positive: false, answer: null });
  });
});
