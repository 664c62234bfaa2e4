// `RuleLoop.test()`: a rule asked now about a frame (or clip), with the same question, parser and judge as
// the loop, returning everything an operator needs to trust it, and an annotated picture. No state, no store.
import type { AnswerTimings, VisionEngine } from '../engine/types.ts';
import type { Frame } from '../ingest/types.ts';
import { annotate } from '../vlm/annotate.ts';
import { buildQuestion } from '../vlm/questions.ts';
import { parseAttributeSpec } from '../vlm/attributes.ts';
import type { Box, ParsedAnswer, Point } from '../vlm/parse.ts';
import { askRules, blankEvaluation, engineSkipReason } from './evaluate.ts';
import { toFramePixels } from './evidence.ts';
import { answerOf } from './loop-parts.ts';
import type { Outcome, Rule } from './types.ts';

export interface RuleTestResult {
  positive: boolean;
  outcome: Outcome;
  reason?: string;
  prompt: string;
  raw: string | null;
  parsed: ParsedAnswer | null;
  boxes: Box[];
  points: Point[];
  count: number | null;
  answer: string | null;
  /** The newest frame with the matching boxes and points drawn (JPEG). */
  annotated: Buffer;
  timings: AnswerTimings | null;
}

export async function testRule(engine: VisionEngine, rule: Rule, frames: Frame[]): Promise<RuleTestResult> {
  const frame = frames.at(-1)!;
  const active = { rule, version: 0 };
  const down = engineSkipReason(engine);
  const ev = down ? blankEvaluation(active, frame, 'skipped', down) : (await askRules(engine, [{ active, frames }])).evaluations[0]!;
  const prompt = ev.prompt ?? promptOf(engine, rule, frame, frames.length);
  return {
    positive: ev.outcome === 'positive',
    outcome: ev.outcome,
    ...(ev.reason ? { reason: ev.reason } : {}),
    prompt,
    raw: ev.raw,
    parsed: ev.parsed,
    boxes: ev.boxes,
    points: ev.points,
    count: ev.count,
    answer: answerOf(ev),
    annotated: await annotate(frame.jpeg, toFramePixels(frame, ev)),
    timings: ev.timings,
  };
}

function promptOf(engine: VisionEngine, rule: Rule, frame: Frame, frames: number): string {
  try {
    const attributes = rule.attributes.map(parseAttributeSpec);
    return buildQuestion(rule.kind, rule.question, { family: engine.info.family, attributes, sent: { width: frame.width, height: frame.height }, frames, id: rule.id }).prompt;
  } catch (err) {
    return `(no prompt: ${(err as Error).message})`;
  }
}
