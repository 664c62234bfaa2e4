// One engine ask for the rules due on a frame: questions built per rule, the frame(s) encoded once, each
// answer parsed into source pixels and judged against its rule's condition. One rule's bad answer is that
// rule's error; an ask the engine rejects as a whole is every rule's skip (engine down or restarting).
import type { EngineAnswer, EngineErrorCode, EngineQuestion, VisionEngine } from '../engine/types.ts';
import { EngineError } from '../engine/types.ts';
import type { Frame } from '../ingest/types.ts';
import { buildQuestion } from '../vlm/questions.ts';
import { parseAnswer } from '../vlm/parse.ts';
import { parseAttributeSpec } from '../vlm/attributes.ts';
import type { Size } from '../vlm/image.ts';
import { judge } from './condition.ts';
import type { DueRule } from './scheduler.ts';
import type { ActiveRule, Evaluation, SkipReason } from './types.ts';

export interface AskResult {
  evaluations: Evaluation[];
  /** Wall-clock ms of the engine call (0 when nothing was sent). */
  ms: number;
  ok: boolean;
  /** EngineError code of a rejected ask. */
  code?: string;
}

/** Source size of a frame (the camera's picture); frames without one refer to themselves. */
export function sourceOf(f: Frame): Size {
  return f.sourceW > 0 && f.sourceH > 0 ? { width: f.sourceW, height: f.sourceH } : { width: f.width, height: f.height };
}

/** An evaluation shell for a rule on a frame: nothing asked yet. */
export function blankEvaluation(a: ActiveRule, frame: Frame, outcome: Evaluation['outcome'], reason?: string): Evaluation {
  const source = sourceOf(frame);
  return {
    rule: a.rule.id,
    ruleVersion: a.version,
    camera: frame.camera,
    run: frame.run,
    pdt: frame.pdt,
    outcome,
    ...(reason ? { reason } : {}),
    gated: false,
    prompt: null,
    raw: null,
    parsed: null,
    boxes: [],
    points: [],
    count: null,
    truncated: false,
    timings: null,
    sourceW: source.width,
    sourceH: source.height,
  };
}

/** Why nothing could be asked, from the engine's state (null when it is ready). */
export function engineSkipReason(engine: VisionEngine): SkipReason | null {
  switch (engine.state) {
    case 'ready':
      return null;
    case 'starting':
    case 'restarting':
      return 'engine-restarting';
    default:
      return 'engine-down';
  }
}

/** Engine errors that belong to one ask, not to the engine's availability. */
const ASK_FAILURES: ReadonlySet<string> = new Set<EngineErrorCode>(['TIMEOUT', 'INVALID_REQUEST', 'INVALID_OUTPUT']);

/** Asks one group of due rules (sharing their frames) and judges every answer. */
export async function askRules(engine: VisionEngine, group: readonly DueRule[], signal?: AbortSignal): Promise<AskResult> {
  const frames = group[0]!.frames;
  const newest = frames.at(-1)!;
  const sent: Size = { width: newest.width, height: newest.height };
  const built = group.map((d) => ({ due: d, question: question(d.active, sent, frames.length, engine) }));
  const asked = built.filter((b): b is { due: DueRule; question: EngineQuestion } => !(b.question instanceof Error));
  const early = built.filter((b) => b.question instanceof Error).map((b) => blankEvaluation(b.due.active, newest, 'error', 'INVALID_REQUEST'));
  if (asked.length === 0) return { evaluations: early, ms: 0, ok: true };
  const t0 = performance.now();
  let answers: EngineAnswer[];
  try {
    answers = await engine.ask({ frames: frames.map((f) => ({ jpeg: f.jpeg, width: f.width, height: f.height })), questions: asked.map((b) => b.question), signal });
  } catch (err) {
    const code = err instanceof EngineError ? err.code : 'ENGINE_DIED';
    // An engine still up that failed this ask (too slow, refused the request) is the evaluation's error, kept with
    // its code; an engine that went away skips the evaluation, with why.
    const failedHere = ASK_FAILURES.has(code) && engine.state === 'ready';
    const reason = engine.state === 'restarting' || engine.state === 'starting' ? 'engine-restarting' : 'engine-down';
    const missed = asked.map((b) => (failedHere ? blankEvaluation(b.due.active, newest, 'error', code) : blankEvaluation(b.due.active, newest, 'skipped', reason)));
    return { evaluations: [...early, ...missed], ms: performance.now() - t0, ok: false, code };
  }
  const ms = performance.now() - t0;
  const byId = new Map(answers.map((a) => [a.questionId, a]));
  const judged = asked.map((b) => judgeAnswer(b.due.active, newest, b.question.prompt, byId.get(b.question.id), engine));
  return { evaluations: [...early, ...judged], ms, ok: true };
}

function question(a: ActiveRule, sent: Size, frames: number, engine: VisionEngine): EngineQuestion | Error {
  try {
    const attributes = a.rule.attributes.map(parseAttributeSpec);
    return buildQuestion(a.rule.kind, a.rule.question, { family: engine.info.family, attributes, sent, frames, id: a.rule.id });
  } catch (err) {
    return err as Error;
  }
}

/** One answer -> this rule's evaluation. A yes/no or count answer without its value is an error, never a silent no. */
export function judgeAnswer(a: ActiveRule, frame: Frame, prompt: string, answer: EngineAnswer | undefined, engine: VisionEngine): Evaluation {
  const base = { ...blankEvaluation(a, frame, 'error'), prompt };
  if (!answer) return { ...base, reason: 'INVALID_OUTPUT' };
  const withRaw = { ...base, raw: answer.raw, truncated: answer.truncated, timings: answer.timings };
  if (answer.error) return { ...withRaw, reason: answer.error.code };
  const source = sourceOf(frame);
  const parsed = parseAnswer(
    answer.raw,
    {
      family: engine.info.family,
      frame: engine.info.coordinateFrame,
      sent: { width: frame.width, height: frame.height },
      source,
      attributes: a.rule.attributes.map(parseAttributeSpec),
      defaultLabel: a.rule.question,
    },
    a.rule.kind,
  );
  if (a.rule.kind === 'yesno' && parsed.answer === undefined) return { ...withRaw, parsed, reason: 'INVALID_OUTPUT' };
  if (a.rule.kind === 'count' && parsed.count === undefined) return { ...withRaw, parsed, reason: 'INVALID_OUTPUT' };
  const j = judge(a.rule, frame.camera, parsed, source);
  return { ...withRaw, parsed, outcome: j.positive ? 'positive' : 'negative', boxes: j.boxes, points: j.points, count: j.count };
}
