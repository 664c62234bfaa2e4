// The engine going away mid-loop never stops the loop or the video: evaluations are recorded as skipped with the
// reason, frames keep arriving, and asking resumes by itself once the engine is back. Two ways down, one camera
// (the shape camera, shape always in view): the vision judge answering 503 (Vigil's OpenAIEngine, no retries), and
// the local engine's worker killed with SIGKILL (random-weight pair; the engine restarts it with backoff).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEngine } from '../../pipelines/engine/local.ts';
import type { Evaluation } from '../../pipelines/rules/types.ts';
import { engineOptions, tinyPair } from '../engine/helpers.ts';
import { startShapeCamera, type ShapeCamera } from '../support/shape-camera.ts';
import { startVisionJudge } from '../support/vision-judge.ts';
import { startJudgeEngine, startRulesServer, until, type RulesServer } from './helpers.ts';

const RULE = { id: 'red', kind: 'detect' as const, question: 'red square', trigger: { n: 2, of: 3 }, end: { negatives: 2 }, cooldown: 2 };

describe('engine down mid-loop', () => {
  let cam: ShapeCamera;
  beforeAll(async () => {
    cam = await startShapeCamera({ colour: 'red', size: 80, timeline: { path: [{ at: 0, x: 100, y: 160 }, { at: 4000, x: 400, y: 200 }], loopMs: 8000 } });
  });
  afterAll(async () => {
    await cam?.close();
  });

  /** Evaluations from the loop, with a way to wait for more of a kind. */
  function watch(run: RulesServer) {
    const evals: Evaluation[] = [];
    run.server.rules!.on('evaluation', (e) => void evals.push(e));
    const count = (pred: (e: Evaluation) => boolean, after = 0) => evals.slice(after).filter(pred).length;
    return { evals, count };
  }

  it('judge outage: skipped with engine-down while it refuses, the open event stays open, asking resumes when it answers again', async () => {
    const judge = await startVisionJudge();
    const engine = await startJudgeEngine(judge);
    const run = await startRulesServer({ camera: 'cam', source: cam.url, sampleInterval: 0.5, engine, rules: [RULE] });
    const asks: Array<{ ok: boolean; code?: string }> = [];
    run.server.rules!.on('ask', (a) => void asks.push(a));
    const w = watch(run);
    try {
      await until(() => run.events.some((m) => m.type === 'opened'), 'an event to open', 40_000);
      judge.down('refuse');
      const downAt = w.evals.length;
      const framesAtDown = run.frames();
      await until(() => w.count((e) => e.outcome === 'skipped', downAt) >= 4, 'skipped evaluations', 20_000);
      const during = w.evals.slice(downAt).filter((e) => e.outcome === 'skipped');
      expect(during.every((e) => e.reason === 'engine-down' && e.raw === null && !e.gated)).toBe(true);
      expect(asks.some((a) => !a.ok && a.code === 'REMOTE_ERROR')).toBe(true);
      expect(run.frames() - framesAtDown).toBeGreaterThanOrEqual(4); // video runs on
      // Skips move no state: the event stays open through the outage.
      expect(run.events.map((m) => m.type)).toEqual(['opened']);
      const stored = await run.server.store.events.evaluationsBetween('cam', during[0]!.pdt, during.at(-1)!.pdt, 'red');
      expect(stored.filter((e) => e.outcome === 'skipped' && e.reason === 'engine-down').length).toBeGreaterThanOrEqual(during.length - 1);

      judge.up();
      const upAt = w.evals.length;
      await until(() => w.count((e) => e.outcome === 'positive', upAt) >= 3, 'positives after the judge is back', 20_000);
      expect((await run.server.store.events.list({ rule: 'red' })).events.map((e) => e.state)).toEqual(['open']);
    } finally {
      await run.close();
      await engine.close();
      await judge.close();
    }
  });

  it('local engine worker killed: skipped with engine-restarting, video runs on, asking resumes after the restart', async () => {
    const pair = tinyPair('rules-engine-down');
    const opts = engineOptions(pair.model, pair.mmproj, { gpu: 'cpu', maxAnswerTokens: 64, timeout: 60 });
    const engine = new LocalEngine({ ...opts, restart: { initialMs: 1500, factor: 2, maxMs: 3000, resetAfterMs: 60_000 } });
    await engine.start();
    const run = await startRulesServer({
      camera: 'cam',
      source: cam.url,
      sampleInterval: 0.5,
      engine,
      engineConfig: { kind: 'local', minPixels: opts.minPixels, maxPixels: opts.maxPixels },
      rules: [RULE],
    });
    const w = watch(run);
    try {
      // Random weights answer anything, but they answer: the loop asks and gets evaluations back.
      await until(() => w.count((e) => e.outcome !== 'skipped' && !e.gated) >= 2, 'answered evaluations', 60_000);
      const killedAt = w.evals.length;
      const framesAtKill = run.frames();
      process.kill(engine.workerPid!, 'SIGKILL');
      await until(() => w.count((e) => e.reason === 'engine-restarting', killedAt) >= 2, 'skips while the worker restarts', 30_000);
      expect(run.frames()).toBeGreaterThan(framesAtKill);
      await until(() => engine.state === 'ready', 'the engine to be back', 60_000);
      const backAt = w.evals.length;
      await until(() => w.count((e) => e.outcome !== 'skipped', backAt) >= 2, 'answered evaluations after the restart', 60_000);
      const skipped = w.evals.slice(killedAt).filter((e) => e.outcome === 'skipped');
      expect(skipped.every((e) => e.reason === 'engine-restarting' || e.reason === 'engine-down')).toBe(true);
    } finally {
      await run.close();
      await engine.close();
    }
  });
});
