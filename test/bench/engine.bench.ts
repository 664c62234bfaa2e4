// Local engine benchmark on random weights with the REAL Qwen2.5-VL-3B shapes (Q4_K text, F16 projector;
// written once into test/.tmp/bench-models, ~3 GB, never committed). VIGIL_BENCH_SMALL=1: smaller shapes;
// VIGIL_BENCH_THREADS (default 2), VIGIL_BENCH_REPEAT (best of N), VIGIL_BENCH_PART=a|b, VIGIL_BENCH_KS=3,5.
//  (a) K = 1, 3, 5 questions about one frame in one ask, versus K separate asks, as ratios to one question;
//  (b) the engine versus llama.cpp's llama-mtmd-cli built from the same bundle and libraries: same model,
//      image, grammar, threads: image encode ms, prefill and decode tok/s, peak RSS, as ratios.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { getLlama } from 'node-llama-cpp';
import { cachedQwen25VLPair, QWEN25VL_3B_SHAPES, SMALL_SHAPES } from '../fixtures/gguf/index.ts';
import { buildMtmdCli } from '../support/llama-tools.ts';
import { bridgeGrammar } from '../../pipelines/engine/grammar.ts';
import { LocalEngine } from '../../pipelines/engine/local.ts';
import type { EngineAnswer, EngineImage, EngineQuestion } from '../../pipelines/engine/types.ts';

const SMALL = process.env.VIGIL_BENCH_SMALL === '1';
const THREADS = Number(process.env.VIGIL_BENCH_THREADS ?? 2);
const SIDE = 448; // 448x448 = 256 image tokens
/** Timings on a shared 2-core box swing with other load: repeat each measurement and keep the best. */
const REPEAT = Number(process.env.VIGIL_BENCH_REPEAT ?? (SMALL ? 3 : 1));
export const MAX_TOKENS = 64;
/** VIGIL_BENCH_PART=a or b runs one half only. */
const PART = process.env.VIGIL_BENCH_PART ?? 'ab';
const CACHE = join(process.cwd(), 'test', '.tmp', 'bench-models');

const SCHEMA = {
  type: 'object',
  properties: { answer: { enum: ['yes', 'no', 'unsure'] }, reason: { type: 'string', maxLength: 12 } },
  required: ['answer', 'reason'],
  additionalProperties: false,
};
export const PROMPTS = ['Is anyone wearing a helmet?', 'Is there a car in the driveway?', 'Is the gate open?', 'Is it raining?', 'Is a dog visible?'];
const questions = (k: number): EngineQuestion[] => PROMPTS.slice(0, k).map((prompt, i) => ({ id: `q${i}`, prompt, schema: SCHEMA }));

/** Peak resident memory (VmHWM) of a live process, in MB. */
function peakMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

/** Best (shortest) of REPEAT runs. */
async function best<T>(fn: () => Promise<T>): Promise<[T, number]> {
  let out: [T, number] | undefined;
  for (let i = 0; i < REPEAT; i++) {
    const r = await timed(fn);
    if (!out || r[1] < out[1]) out = r;
  }
  return out!;
}

const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);

async function batchingBench(engine: LocalEngine, img: EngineImage): Promise<void> {
  console.log('\n(a) questions per frame: one ask with K questions vs K separate asks');
  const [, one] = await best(() => engine.ask({ frames: [img], questions: questions(1) }));
  console.log(`  K=1: ${f1(one)} ms per frame (baseline)`);
  for (const k of (process.env.VIGIL_BENCH_KS ?? '3,5').split(',').map(Number)) {
    const [answers, together] = await best(() => engine.ask({ frames: [img], questions: questions(k) }));
    let separate = 0;
    for (const q of questions(k)) separate += (await best(() => engine.ask({ frames: [img], questions: [q] })))[1];
    const tokens = answers.map((a) => a.timings.outputTokens).join('/');
    console.log(
      `  K=${k}: together ${f1(together)} ms = ${f2(together / one)}x one question (target <= 1.5x); ` +
        `separate ${f1(separate)} ms = ${f2(separate / one)}x; answer tokens ${tokens}`,
    );
  }
}

interface Metrics {
  encodeMs: number;
  /** Image embeddings through the language model (the bulk of the prompt). */
  imagePrefillTokS: number;
  prefillTokS: number;
  decodeTokS: number;
  peakMb: number;
  outputTokens: number;
}

function engineMetrics(a: EngineAnswer, pid: number): Metrics {
  if (a.error) console.log(`  note: engine answer ${a.error.code}: ${a.raw.slice(0, 80)}`);
  const t = a.timings;
  return {
    encodeMs: t.encodeMs,
    imagePrefillTokS: (t.imageTokens ?? NaN) / ((t.imagePrefillMs ?? NaN) / 1000),
    prefillTokS: t.promptTokens / (t.prefillMs / 1000),
    decodeTokS: t.outputTokens / (t.decodeMs / 1000),
    peakMb: peakMb(pid),
    outputTokens: t.outputTokens,
  };
}

async function mtmdCli(bin: string, model: string, mmproj: string, image: string, grammarFile: string, maxTokens: number): Promise<Metrics> {
  const args = [
    '-m', model, '--mmproj', mmproj, '--image', image, '-p', PROMPTS[0]!, '-n', String(maxTokens), '--temp', '0',
    '-t', String(THREADS), '-lv', '4', '--grammar-file', grammarFile, '--image-min-tokens', '4', '--image-max-tokens', String((SIDE * SIDE) / 784),
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  let peak = 0;
  const poll = setInterval(() => (peak = Math.max(peak, peakMb(child.pid!) || 0)), 50);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  clearInterval(poll);
  if (code !== 0) throw new Error(`llama-mtmd-cli failed (${code}):\n${out.slice(-3000)}`);
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  // llama_perf's prompt eval covers every llama_decode before generation: image embeddings and text.
  const promptMs = num(/prompt eval time =\s+([\d.]+) ms/);
  const promptTok = num(/prompt eval time =\s+[\d.]+ ms \/\s+(\d+) tokens/);
  const evalMs = num(/\beval time =\s+([\d.]+) ms \/\s+\d+ runs/);
  const evalRuns = num(/\beval time =\s+[\d.]+ ms \/\s+(\d+) runs/);
  return {
    encodeMs: num(/(?:mtmd batch encoding done|image slice encoded) in (\d+) ms/),
    imagePrefillTokS: num(/n_tokens_batch = (\d+)/) / (num(/image decoded \(batch \d+\/\d+\) in (\d+) ms/) / 1000),
    prefillTokS: promptTok / (promptMs / 1000),
    decodeTokS: evalRuns / (evalMs / 1000),
    peakMb: peak,
    outputTokens: evalRuns + 1, // the last sampled token is not evaluated
  };
}

/** The 448x448 test frame (256 image tokens), written once into `dir`. */
export async function benchImage(dir: string): Promise<string> {
  const image = join(dir, 'frame-448.jpg');
  if (!existsSync(image)) {
    await sharp({ create: { width: SIDE, height: SIDE, channels: 3, background: { r: 90, g: 140, b: 60 } } })
      .composite([{ input: Buffer.from(`<svg width="${SIDE}" height="${SIDE}"><circle cx="200" cy="220" r="90" fill="#c33"/></svg>`) }])
      .jpeg({ quality: 90 })
      .toFile(image);
  }
  return image;
}

/** The GBNF the engine samples SCHEMA's answers with (the same text goes to the cli's --grammar-file). */
export async function answerGrammar(): Promise<string> {
  const llama = await getLlama({ gpu: false, build: 'never' });
  try {
    return bridgeGrammar((await llama.createGrammarForJsonSchema(SCHEMA as never)).grammar);
  } finally {
    await llama.dispose();
  }
}

export async function run(): Promise<void> {
  const shapes = SMALL ? SMALL_SHAPES : QWEN25VL_3B_SHAPES;
  const name = SMALL ? 'bench-small' : 'bench-3b';
  mkdirSync(CACHE, { recursive: true });
  const [pair, writeMs] = await timed(async () => cachedQwen25VLPair(CACHE, shapes, name));
  console.log(`model pair (${SMALL ? 'small' : 'real 3B'} shapes, random weights): ${pair.model} [${f1(writeMs / 1000)} s to write/check]`);

  const image = await benchImage(CACHE);
  const img: EngineImage = { jpeg: readFileSync(image), width: SIDE, height: SIDE };
  const maxAnswerTokens = MAX_TOKENS;
  const engine = new LocalEngine({
    local: { ...pair, gpu: 'cpu', threads: THREADS, contextSize: 1024, maxAnswerTokens, timeout: 600 },
    minPixels: 3136,
    maxPixels: SIDE * SIDE,
    autoDownload: false,
  });
  const [, startMs] = await timed(() => engine.start());
  console.log(`engine start (worker, model load, encoder warmup): ${f1(startMs)} ms; ${THREADS} threads; best of ${REPEAT}; load average ${loadavg().map(f2).join(' ')}`);
  try {
    await engine.ask({ frames: [img], questions: questions(1) }); // first-ask allocations
    if (PART.includes('a')) await batchingBench(engine, img);
    if (!PART.includes('b')) return;

    console.log('\n(b) engine vs llama-mtmd-cli (same bundle, libraries, model, image, grammar, threads)');
    const [cli, buildMs] = await timed(() => buildMtmdCli());
    console.log(`  llama-mtmd-cli ready in ${f1(buildMs / 1000)} s`);
    const grammarFile = join(CACHE, 'answer.gbnf');
    writeFileSync(grammarFile, await answerGrammar());
    // Interleave the two so that load from other processes hits both alike; keep the best of each.
    let ours: Metrics | undefined;
    let ref: Metrics | undefined;
    const better = (a: Metrics | undefined, b: Metrics): Metrics =>
      !a ? b : { encodeMs: Math.min(a.encodeMs, b.encodeMs), imagePrefillTokS: Math.max(a.imagePrefillTokS, b.imagePrefillTokS), prefillTokS: Math.max(a.prefillTokS, b.prefillTokS), decodeTokS: Math.max(a.decodeTokS, b.decodeTokS), peakMb: Math.max(a.peakMb, b.peakMb), outputTokens: b.outputTokens };
    for (let i = 0; i < Math.max(2, REPEAT); i++) {
      const [mine] = await engine.ask({ frames: [img], questions: questions(1) });
      ours = better(ours, engineMetrics(mine!, engine.workerPid!));
      ref = better(ref, await mtmdCli(cli, pair.model, pair.mmproj, image, grammarFile, maxAnswerTokens));
    }
    if (!ours || !ref) throw new Error('no measurements');
    const row = (label: string, a: number, b: number, unit: string, higherIsBetter: boolean) =>
      console.log(`  ${label.padEnd(18)} engine ${f1(a).padStart(9)} ${unit.padEnd(6)} cli ${f1(b).padStart(9)} ${unit.padEnd(6)} ratio ${f2(higherIsBetter ? a / b : b / a)}x`);
    console.log('  (ratio: engine relative to the cli, >= 1 means at least as good; target >= 0.95x)');
    row('image encode', ours.encodeMs, ref.encodeMs, 'ms', false);
    row('image prefill', ours.imagePrefillTokS, ref.imagePrefillTokS, 'tok/s', true);
    row('whole prompt', ours.prefillTokS, ref.prefillTokS, 'tok/s', true);
    row('decode (grammar)', ours.decodeTokS, ref.decodeTokS, 'tok/s', true);
    row('peak RSS', ours.peakMb, ref.peakMb, 'MB', false);
    console.log('  decode: the engine\'s time is its whole decode loop (sampling, grammar and llama_decode); the cli\'s is');
    console.log('  llama_decode alone (llama_perf eval time: its sampling and grammar are not timed), which favours the cli.');
    console.log(`  load average now ${loadavg().map(f2).join(' ')} (2 cores): tok/s swings with other load; engine-instructions.bench.ts counts instructions.`);
    console.log(`  output tokens: engine ${ours.outputTokens}, cli ${ref.outputTokens}; the cli's whole prompt includes its`);
    console.log('  first-decode graph allocation (fresh process each run), the engine is warm: compare image prefill.');
  } finally {
    await engine.close();
  }
}

if (process.argv[1]?.endsWith('engine.bench.ts')) await run();
