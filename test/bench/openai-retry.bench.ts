// OpenAI-compatible engine timing against a local recording server: how long a retry waits when the server
// asks for Retry-After, and how soon a slow server times out, each as a ratio to what was asked for, with
// the same run's plain round trip (no retry, no delay) subtracted as the baseline.
//   npm run bench openai-retry
import sharp from 'sharp';
import { OpenAIEngine } from '../../pipelines/engine/openai.ts';
import { DEFAULT_RETRY } from '../../pipelines/engine/openai-http.ts';
import { buildQuestion } from '../../pipelines/vlm/questions.ts';
import { chatReply, startFakeOpenAI, type Responder } from '../fixtures/vlm/openai-server.ts';

const BOXES = '[{"bbox_2d": [1, 2, 30, 20], "label": "person"}]';
const RETRY_AFTER_S = 1;
const TIMEOUT_MS = 200;
const REPEAT = Number(process.env.VIGIL_BENCH_REPEAT ?? 3);

async function askOnce(respond: Responder, timeoutMs = 5000): Promise<number> {
  const server = await startFakeOpenAI(respond);
  const engine = new OpenAIEngine({
    baseUrl: server.baseUrl, model: 'm', family: 'qwen2.5-vl', timeoutMs, concurrency: 1, maxAnswerTokens: 256,
    minPixels: 3136, maxPixels: 1003520, retry: { ...DEFAULT_RETRY, initialMs: 10, maxMs: 40, jitter: 0, retries: 2 },
  });
  try {
    await engine.start();
    const jpeg = await sharp({ create: { width: 56, height: 28, channels: 3, background: '#fff' } }).jpeg().toBuffer();
    const question = buildQuestion('detect', 'person', { family: 'qwen2.5-vl', sent: { width: 56, height: 28 } });
    const t0 = performance.now();
    await engine.ask({ frames: [{ jpeg, width: 56, height: 28 }], questions: [question] }).catch(() => undefined);
    return performance.now() - t0;
  } finally {
    await engine.close();
    await server.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(respond: Responder, timeoutMs?: number): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < REPEAT; i++) runs.push(await askOnce(respond, timeoutMs));
  return median(runs);
}

export async function run(): Promise<void> {
  const base = await measure(() => chatReply(BOXES));
  console.log(`baseline round trip: ${base.toFixed(1)} ms (median of ${REPEAT})`);
  const retried = await measure((_r, n) => (n === 0 ? { status: 429, headers: { 'retry-after': String(RETRY_AFTER_S) }, body: { error: { message: 'slow down' } } } : chatReply(BOXES)));
  const waited = retried - 2 * base;
  console.log(`429 + Retry-After ${RETRY_AFTER_S} s: ${retried.toFixed(1)} ms; wait ${waited.toFixed(1)} ms = ${(waited / (RETRY_AFTER_S * 1000)).toFixed(2)}x the asked delay (target 0.95-1.10x; the backoff alone would be 0.01x)`);
  const timedOut = await measure(() => ({ ...chatReply(BOXES), delayMs: 1500 }), TIMEOUT_MS);
  console.log(`slow server, timeout ${TIMEOUT_MS} ms: gave up after ${timedOut.toFixed(1)} ms = ${((timedOut - base) / TIMEOUT_MS).toFixed(2)}x the timeout (target <= 1.5x; the server would answer at 7.5x)`);
}

if (process.argv[1]?.endsWith('openai-retry.bench.ts')) await run();
