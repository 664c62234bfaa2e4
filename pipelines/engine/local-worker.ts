// The local engine's worker process: hosts node-llama-cpp (backend/GPU choice, JSON-schema grammars) and the
// native libmtmd bridge. A crash here (bad file, GGML_ASSERT) ends only this process; LocalEngine supervises.
// It never outlives its parent: the IPC channel closing ends it, and so does the kernel (PR_SET_PDEATHSIG,
// armed by the bridge) when the parent dies while a native call holds this process.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import { loadBridge, type BridgeModel, type BridgeVariant } from './bridge.ts';
import { bridgeGrammar } from './grammar.ts';
import type { FromWorker, ToWorker, WorkerAnswer, WorkerFault, WorkerLoadOptions, WorkerPhase, WorkerQuestion } from './local-protocol.ts';
import { EngineError, type EngineDevice } from './types.ts';

const SYSTEM = 'You are a helpful assistant.';
const PARENT = process.ppid;

let llama: Llama | undefined;
let model: BridgeModel | undefined;
let marker = '<__media__>';
let asking = false;
let closing = false;
const grammars = new Map<string, string>();

function send(msg: FromWorker): void {
  if (process.connected) process.send?.(msg);
}

/** Ends this process now. process.exit() would wait for a native encode to finish (libuv joins its threads). */
function hardExit(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

/** node-llama-cpp's package folder, found by module resolution (works from any install layout). */
function nodeLlamaCppDir(): string {
  return dirname(dirname(fileURLToPath(import.meta.resolve('node-llama-cpp'))));
}

function nodeLlamaCppVersion(): string | undefined {
  const pkg = join(nodeLlamaCppDir(), 'package.json');
  return existsSync(pkg) ? (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version : undefined;
}

/** The prebuilt libraries of a variant: @node-llama-cpp/<platform>[-variant]/bins/<same>, resolved from node-llama-cpp. */
function binsDir(variant: BridgeVariant): string | undefined {
  const name = `${process.platform}-${process.arch}${variant === 'cpu' ? '' : `-${variant}`}`;
  try {
    const entry = createRequire(join(nodeLlamaCppDir(), 'package.json')).resolve(`@node-llama-cpp/${name}`);
    const dir = join(dirname(dirname(entry)), 'bins', name);
    return existsSync(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

const SOFTWARE_GPU = /llvmpipe|lavapipe|swiftshader|softpipe/i;

/** What `gpu: auto` would pick, probed in a throwaway process: once a variant's libraries are loaded they stay,
 *  and a second variant in the same process slows both down. */
function probeAutoGpu(): { gpu: string | false; names: string[] } {
  const script =
    `import {getLlama} from ${JSON.stringify(import.meta.resolve('node-llama-cpp'))}; const l = await getLlama({gpu: 'auto', build: 'never', logLevel: 'disabled', progressLogs: false});` +
    'console.log(JSON.stringify({gpu: l.gpu, names: l.gpu ? await l.getGpuDeviceNames() : []})); process.exit(0);';
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { gpu: string | false; names: string[] };
  } catch {
    return { gpu: false, names: [] };
  }
}

/** node-llama-cpp's backend for engine.local.gpu. `auto` never settles for a software Vulkan device
 *  (llvmpipe on a GPU-less host is far slower than the CPU backend). */
async function chooseLlama(gpu: WorkerLoadOptions['gpu']): Promise<Llama> {
  let pick: 'auto' | 'cuda' | 'vulkan' | 'metal' | false = gpu === 'cpu' ? false : gpu;
  if (gpu === 'auto') {
    const probe = probeAutoGpu();
    if (probe.gpu === false || (probe.names.length > 0 && probe.names.every((n) => SOFTWARE_GPU.test(n)))) pick = false;
  }
  return getLlama({ gpu: pick, build: 'never', logLevel: LlamaLogLevel.error, progressLogs: false });
}

async function load(o: WorkerLoadOptions): Promise<void> {
  llama = await chooseLlama(o.gpu);
  const gpu = llama.gpu;
  if (gpu === 'metal') throw new EngineError('NOT_STARTED', 'the native bridge has no Metal build yet', 'Set engine.local.gpu: cpu on macOS for now.');
  const variant: BridgeVariant = gpu === false ? 'cpu' : gpu;
  const bridge = loadBridge(variant, nodeLlamaCppVersion());
  const watch = bridge.dieWithParent();
  if (watch.armed && watch.ppid !== PARENT) hardExit(); // the parent died before the watch was armed
  bridge.setLogLevel(Number(process.env.VIGIL_ENGINE_LOG_LEVEL ?? 4));
  marker = bridge.marker;
  const threads = o.threads > 0 ? o.threads : Math.max(1, llama.cpuMathCores);
  const dir = binsDir(variant);
  model = await bridge.load({
    model: o.model,
    mmproj: o.mmproj,
    ...(dir ? { binsDir: dir } : {}),
    gpuLayers: gpu === false ? 0 : -1,
    threads,
    // Context per sequence, plus room for the other questions' suffixes and answers (they share the prefix cells).
    nCtx: o.contextSize + (o.maxQuestions - 1) * (o.maxAnswerTokens + 256),
    nSeqMax: o.maxQuestions,
    imageMinTokens: o.imageMinTokens,
    imageMaxTokens: o.imageMaxTokens,
    warmup: o.warmup,
  });
  const device: EngineDevice = gpu === false ? 'cpu' : gpu;
  send({ type: 'ready', device, nCtx: model.info()?.nCtx ?? 0, variant, threads });
}

async function grammarFor(schema: Record<string, unknown>): Promise<string> {
  const key = JSON.stringify(schema);
  let g = grammars.get(key);
  if (g === undefined) {
    g = bridgeGrammar((await llama!.createGrammarForJsonSchema(schema as never)).grammar);
    grammars.set(key, g);
  }
  return g;
}

const fault = (code: WorkerFault['code'], prefix: string, err: unknown): WorkerFault => ({ code, message: `${prefix}: ${err instanceof Error ? err.message : String(err)}` });
const unanswered = (q: WorkerQuestion, error: WorkerFault): WorkerAnswer => ({ questionId: q.id, raw: '', stop: '', promptTokens: 0, outputTokens: 0, error });

/** One ask: a question whose schema has no grammar, or an ask the bridge refuses, fails as answers, never as a whole. */
async function ask(id: number, images: Uint8Array[], questions: WorkerQuestion[]): Promise<void> {
  const t0 = performance.now();
  const prefix = `<|im_start|>system\n${SYSTEM}<|im_end|>\n<|im_start|>user\n${images.map(() => marker).join('')}`;
  const answers: WorkerAnswer[] = new Array(questions.length);
  const runnable: { i: number; suffix: string; grammar: string; maxTokens: number }[] = [];
  for (const [i, q] of questions.entries()) {
    try {
      runnable.push({ i, suffix: `${q.prompt}<|im_end|>\n<|im_start|>assistant\n`, grammar: await grammarFor(q.schema), maxTokens: q.maxTokens });
    } catch (err) {
      answers[i] = unanswered(q, { ...fault('INVALID_REQUEST', 'its JSON schema cannot be turned into a grammar', err), hint: 'Use the JSON Schema subset node-llama-cpp supports (bounded arrays and strings).' });
    }
  }
  const timings = { encodeMs: 0, prefillMs: 0, decodeMs: 0, totalMs: 0, imageTokens: 0, imagePrefillMs: 0 };
  if (runnable.length > 0) {
    try {
      const r = await model!.ask({ images, prefix, questions: runnable });
      r.answers.forEach((a, k) => {
        const q = questions[runnable[k]!.i]!;
        answers[runnable[k]!.i] = { questionId: q.id, raw: a.text, stop: a.stop, promptTokens: r.prefixTokens + a.suffixTokens, outputTokens: a.outputTokens };
      });
      Object.assign(timings, { encodeMs: r.encodeMs, prefillMs: r.prefixMs + r.suffixMs, decodeMs: r.decodeMs, imageTokens: r.imageTokens, imagePrefillMs: r.imagePrefillMs });
    } catch (err) {
      for (const { i } of runnable) answers[i] = unanswered(questions[i]!, fault('INVALID_REQUEST', 'the engine could not answer', err));
    }
  }
  timings.totalMs = performance.now() - t0;
  send({ type: 'answers', id, answers, timings });
}

function phase(): WorkerPhase {
  if (closing) return 'closing';
  if (!model) return 'loading';
  const native = model.stats().phase;
  return native === 'idle' && asking ? 'preparing' : native === 'closed' ? 'closing' : native;
}

async function close(): Promise<void> {
  closing = true;
  // mtmd cannot cancel an encode or a load, and a graceful exit would wait for it: end now.
  if (asking || !model) hardExit();
  await model?.close().catch(() => undefined);
  await llama?.dispose().catch(() => undefined);
  process.exit(0);
}

// The parent closed the channel or died: nothing here is worth finishing.
process.on('disconnect', () => hardExit());
process.on('message', (msg: ToWorker) => {
  if (msg.type === 'load') {
    load(msg.options).catch((err: unknown) => {
      const e = err instanceof EngineError ? err : undefined;
      send({ type: 'loadError', code: e?.code ?? 'MODEL_INVALID', message: err instanceof Error ? err.message : String(err), ...(e?.hint ? { hint: e.hint } : {}) });
    });
  } else if (msg.type === 'ask') {
    asking = true;
    void ask(msg.id, msg.images, msg.questions).finally(() => (asking = false));
  } else if (msg.type === 'stats') {
    const s = model?.stats();
    send({ type: 'stats', id: msg.id, stats: { phase: phase(), asks: s?.asks ?? 0, encodes: s?.encodes ?? 0, pid: process.pid } });
  } else if (msg.type === 'close') {
    void close();
  }
});
