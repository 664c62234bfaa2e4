// Trying a rule before (or after) saving it: the rule runs once on a camera's newest frame through the
// loop's engine and the result comes back with an annotated copy of the frame. Nothing is stored and no
// alert state changes: the loop's test() is the same evaluation without the state machine.
import type { Rule } from '../../config/rule.ts';
import type { RuleTestInfo } from '../wire.ts';
import { Errors } from '../http/errors.ts';
import type { RuleRunner } from './ports.ts';

export interface CameraLookup {
  get(id: string): { id: string; state: string } | undefined | null;
  list(): ReadonlyArray<{ id: string; state: string }>;
}

/** Engine faults that mean "not now" rather than "this rule is broken". */
const UNAVAILABLE = new Set(['NOT_STARTED', 'ENGINE_DIED', 'TIMEOUT', 'REMOTE_ERROR', 'ABORTED', 'MODEL_MISSING', 'MODEL_INVALID', 'NOT_VISION_MODEL', 'PROJECTOR_MISMATCH']);

export async function runRuleTest(loop: RuleRunner | null, cameras: CameraLookup, rule: Rule, cameraId: string | undefined): Promise<RuleTestInfo> {
  if (!loop) {
    throw Errors.ENGINE_UNAVAILABLE(
      'no vision engine is running, so rules cannot be tried: Vigil starts the configured engine (`engine:` in the config) when a rule is enabled; see GET /api/health for its state',
    );
  }
  const camera = pickCamera(cameras, rule, cameraId);
  const frame = loop.latest(camera.id);
  if (!frame) {
    throw Errors.NO_FRAME(`camera "${camera.id}" has no frame yet (state: ${camera.state}): try again once it is live (GET /api/cameras/${camera.id})`);
  }
  let r;
  try {
    r = await loop.test(rule, frame);
  } catch (err) {
    throw engineFault(err);
  }
  if (r.outcome === 'skipped' && (r.reason === 'engine-down' || r.reason === 'engine-restarting')) {
    throw Errors.ENGINE_UNAVAILABLE(`the vision engine is ${r.reason === 'engine-down' ? 'down' : 'restarting'}, so the rule was not asked: see GET /api/health (engine.error says what to do), then try again`);
  }
  return {
    camera: camera.id,
    pdt: frame.pdt,
    positive: r.positive,
    outcome: r.outcome,
    reason: r.reason ?? null,
    prompt: r.prompt,
    raw: r.raw,
    parsed: r.parsed,
    boxes: r.boxes,
    points: r.points,
    count: r.count,
    answer: r.answer,
    timings: r.timings,
    annotated: `data:image/jpeg;base64,${r.annotated.toString('base64')}`,
  };
}

function pickCamera(cameras: CameraLookup, rule: Rule, requested: string | undefined): { id: string; state: string } {
  const id = requested ?? (rule.cameras === 'all' ? cameras.list()[0]?.id : rule.cameras[0]);
  const cam = id === undefined ? undefined : cameras.get(id);
  if (!cam) throw Errors.NOT_FOUND(id === undefined ? 'no camera is configured to try the rule on' : `no camera "${id}"`);
  return cam;
}

function engineFault(err: unknown): Error {
  const e = err as { code?: unknown; message?: unknown; hint?: unknown };
  if (typeof e?.code === 'string' && UNAVAILABLE.has(e.code)) {
    const hint = typeof e.hint === 'string' ? ` (${e.hint})` : '';
    return Errors.ENGINE_UNAVAILABLE(`the vision engine cannot answer now: [${e.code}] ${String(e.message)}${hint}; see GET /api/health, then try again`);
  }
  return err instanceof Error ? err : new Error(String(err));
}
