// Rules loop benchmark (`npm run bench rules`). Ratios against baselines measured in the same run.
//  (a) Five rules due on one frame through the scheduler (one ask) against one rule: wall time from push() to the
//      frame's outcome (question build, ask, parse, judge, evaluations and event writes), median of N frames.
//      Two engines: the vision judge behind Vigil's OpenAIEngine with a fixed model time per answer (a server that
//      answers questions in parallel, like vLLM), and the local engine on the tiny random-weight pair (one image
//      encode shared by every question; answers of random length, so noisier). Target: at most 1.5x.
//  (b) Frame pdt to event message, minus the model time of that frame's ask: the real shape camera through the
//      real server (ingest included), a shape appearing and vanishing every 1.5 s, trigger 1 of 1, end after 1
//      negative, no cooldown, so every change of the scene is an event message. Target: median at most 250 ms.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { AnalysisSchema, RuleSchema, type RuleInput } from '../../config/rule.ts';
import { validateConfig } from '../../config/load.ts';
import { LocalEngine } from '../../pipelines/engine/local.ts';
import { OpenAIEngine, openAIOptionsFromConfig } from '../../pipelines/engine/openai.ts';
import type { VisionEngine } from '../../pipelines/engine/types.ts';
import type { Frame } from '../../pipelines/ingest/types.ts';
import { silentLogger } from '../../pipelines/log.ts';
import { RuleLoop } from '../../pipelines/rules/rule-loop.ts';
import { openSqliteStore, storeFileIn } from '../../pipelines/store/index.ts';
import { engineOptions, tinyPair } from '../engine/helpers.ts';
import { startRulesServer, until } from '../rules/helpers.ts';
import { startShapeCamera } from '../support/shape-camera.ts';
import { startVisionJudge } from '../support/vision-judge.ts';

const FRAMES = Number(process.env.VIGIL_BENCH_FRAMES ?? 12);
const MODEL_MS = Number(process.env.VIGIL_BENCH_MODEL_MS ?? 200);
const LATENCY_SECONDS = Number(process.env.VIGIL_BENCH_SECONDS ?? 30);

const FIVE: RuleInput[] = [
  { id: 'red', kind: 'detect', question: 'red square' },
  { id: 'green', kind: 'yesno', question: 'Is there a green circle?' },
  { id: 'count', kind: 'count', question: 'shapes' },
  { id: 'blue', kind: 'point', question: 'blue square' },
  { id: 'scene', kind: 'describe', question: 'Describe the scene.' },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const f1 = (n: number) => n.toFixed(1);

async function benchFrame(): Promise<Frame> {
  const square = await sharp({ create: { width: 56, height: 56, channels: 3, background: '#dc1e1e' } }).png().toBuffer();
  const jpeg = await sharp({ create: { width: 448, height: 252, channels: 3, background: '#404040' } })
    .composite([{ input: square, left: 100, top: 100 }])
    .jpeg()
    .toBuffer();
  return { camera: 'a', run: 1, seq: 0, pts: 0, pdt: 0, jpeg, width: 448, height: 252, sourceW: 896, sourceH: 504 };
}

/** Median ms from push() to the frame's outcome with `rules` due on every frame. */
async function perFrame(engine: VisionEngine, rules: RuleInput[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-rules-'));
  const store = await openSqliteStore({ file: storeFileIn(dir), dataDir: dir });
  const loop = new RuleLoop({
    engine,
    sink: store.events,
    analysis: AnalysisSchema.parse({ changeThreshold: 0, maxInFlight: 1 }),
    cameras: () => [{ id: 'a', sampleInterval: 0.5 }],
    log: silentLogger,
  });
  await loop.setRules(rules.map((r) => ({ rule: RuleSchema.parse({ trigger: { n: 1, of: 1 }, ...r }), version: 1 })));
  const base = await benchFrame();
  const times: number[] = [];
  try {
    for (let i = 0; i <= FRAMES; i++) {
      const done = new Promise<void>((resolve) => {
        const off = loop.on('frame', () => {
          off();
          resolve();
        });
      });
      const t0 = performance.now();
      loop.push({ ...base, seq: i, pdt: 1_750_000_000_000 + i * 500 });
      await done;
      if (i > 0) times.push(performance.now() - t0); // the first frame warms up (JIT, connections)
    }
  } finally {
    await loop.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return median(times);
}

async function fiveVersusOne(label: string, engine: VisionEngine): Promise<void> {
  const one = await perFrame(engine, FIVE.slice(0, 1));
  const five = await perFrame(engine, FIVE);
  console.log(`  ${label}: one rule ${f1(one)} ms per frame, five rules ${f1(five)} ms = ${(five / one).toFixed(2)}x (target <= 1.5x)`);
}

async function partA(): Promise<void> {
  console.log(`\n(a) five rules on one frame through the scheduler vs one rule (median of ${FRAMES} frames)`);
  const judge = await startVisionJudge({ delayMs: MODEL_MS });
  const cfg = validateConfig({ engine: { kind: 'openai', openai: { baseUrl: judge.baseUrl, model: 'vision-judge', family: 'qwen2.5-vl', retries: 0, concurrency: 8 } } });
  const remote = new OpenAIEngine(openAIOptionsFromConfig(cfg.engine));
  await remote.start();
  try {
    await fiveVersusOne(`vision judge, ${MODEL_MS} ms model time per answer, OpenAIEngine concurrency 8`, remote);
  } finally {
    await remote.close();
    await judge.close();
  }
  const pair = tinyPair('bench-rules');
  const local = new LocalEngine(engineOptions(pair.model, pair.mmproj, { gpu: 'cpu', maxAnswerTokens: 96 }));
  await local.start();
  try {
    await fiveVersusOne('local engine, tiny random-weight pair (2 threads)', local);
  } finally {
    await local.close();
  }
}

async function partB(): Promise<void> {
  console.log(`\n(b) frame pdt -> event message, minus model time (shape camera, real server, ${LATENCY_SECONDS} s)`);
  const cam = await startShapeCamera({ colour: 'red', timeline: { visible: [{ from: 0, to: 1500 }], path: [{ at: 0, x: 200, y: 160 }], loopMs: 3000 } });
  const judge = await startVisionJudge({ delayMs: 50 });
  const cfg = validateConfig({ engine: { kind: 'openai', openai: { baseUrl: judge.baseUrl, model: 'vision-judge', family: 'qwen2.5-vl', retries: 0 } } });
  const engine = new OpenAIEngine(openAIOptionsFromConfig(cfg.engine));
  await engine.start();
  const run = await startRulesServer({
    camera: 'cam',
    source: cam.url,
    sampleInterval: 0.5,
    engine,
    rules: [{ id: 'red', kind: 'detect', question: 'red square', trigger: { n: 1, of: 1 }, end: { negatives: 1 }, cooldown: 0 }],
  });
  const lastAskMs = new Map<string, number>();
  const arrived = new Map<number, number>();
  const total: number[] = [];
  const minusModel: number[] = [];
  const inLoop: number[] = [];
  run.server.cameras.on('frame', (f) => void arrived.set(f.pdt, Date.now()));
  run.server.rules!.on('ask', (a) => void lastAskMs.set(a.camera, a.ms));
  run.server.rules!.on('event', (m) => {
    const now = Date.now();
    const model = lastAskMs.get(m.event.camera) ?? 0;
    total.push(now - m.framePdt);
    minusModel.push(now - m.framePdt - model);
    // The loop's own share: from the frame reaching the server to the message, minus the model.
    inLoop.push(now - (arrived.get(m.framePdt) ?? now) - model);
  });
  try {
    await until(() => run.events.length > 0, 'a first event', 30_000);
    total.length = 0;
    minusModel.length = 0;
    inLoop.length = 0;
    await new Promise((r) => setTimeout(r, LATENCY_SECONDS * 1000));
    console.log(
      `  ${total.length} event messages: pdt -> message median ${f1(median(total))} ms (p90 ${f1(pct(total, 0.9))}); ` +
        `minus model time median ${f1(median(minusModel))} ms (p90 ${f1(pct(minusModel, 0.9))}) (target median <= 250 ms)`,
    );
    console.log(`  of which in the loop (frame delivered -> message, minus model): median ${f1(median(inLoop))} ms (p90 ${f1(pct(inLoop, 0.9))}); the rest is ingest (pdt -> frame delivered)`);
  } finally {
    await run.close();
    await engine.close();
    await judge.close();
    await cam.close();
  }
}

export async function run(): Promise<void> {
  const part = process.env.VIGIL_BENCH_PART ?? 'ab';
  if (part.includes('a')) await partA();
  if (part.includes('b')) await partB();
}
