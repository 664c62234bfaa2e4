// Builders for the store's event tests: rules through the real RuleSchema, evaluations and new events shaped as the
// rules loop sends them, evidence whose bytes name the event and generation (so a test can tell which frame a file holds).
import { RuleSchema, type Rule, type RuleInput } from '../../config/rule.ts';
import type { Evaluation, EventEvidence, NewEvent } from '../../pipelines/rules/types.ts';

export const T0 = Date.parse('2026-11-30T10:00:00Z');

export function rule(over: Partial<RuleInput> = {}): Rule {
  return RuleSchema.parse({ id: 'helmets', kind: 'detect', question: 'people without a helmet', ...over });
}

export function evaluation(over: Partial<Evaluation> = {}): Evaluation {
  return {
    rule: 'helmets',
    ruleVersion: 1,
    camera: 'cam',
    run: 1,
    pdt: T0,
    outcome: 'positive',
    gated: false,
    prompt: 'Find every person without a helmet. Answer JSON.',
    raw: '{"boxes":[{"label":"person","box":[10,20,110,220]}]}',
    parsed: { boxes: [{ label: 'person', x1: 10, y1: 20, x2: 110, y2: 220, attributes: { helmet: false } }], points: [] },
    boxes: [{ label: 'person', x1: 10, y1: 20, x2: 110, y2: 220, attributes: { helmet: false } }],
    points: [],
    count: 1,
    truncated: false,
    timings: { encodeMs: 40, prefillMs: 80, decodeMs: 120, totalMs: 240, promptTokens: 900, outputTokens: 30 },
    sourceW: 1280,
    sourceH: 720,
    ...over,
  };
}

/** Evidence whose bytes say which frame they are (`mark`), at a few kB like a small JPEG. */
export function evidence(mark: string, pdt = T0, size = 4096): EventEvidence {
  const fill = (kind: string) => {
    const head = Buffer.from(`\xff\xd8 ${kind} ${mark} `, 'latin1');
    return Buffer.concat([head, Buffer.alloc(Math.max(0, size - head.length), kind.length)]);
  };
  return { pdt, snapshot: fill('snapshot'), annotated: fill('annotated'), thumbnail: fill('thumbnail').subarray(0, size / 4) };
}

export function newEvent(over: Partial<NewEvent> & { ruleOver?: Partial<RuleInput>; version?: number } = {}): NewEvent {
  const { ruleOver, version, ...rest } = over;
  const startPdt = rest.startPdt ?? T0;
  return {
    rule: { rule: rule(ruleOver), version: version ?? 1 },
    camera: 'cam',
    startPdt,
    prompt: 'Find every person without a helmet. Answer JSON.',
    engine: { kind: 'openai', model: 'test-vision' },
    peak: 1,
    evidence: evidence('open', startPdt),
    evaluations: [evaluation({ pdt: startPdt - 1000 }), evaluation({ pdt: startPdt })],
    ...rest,
  };
}
