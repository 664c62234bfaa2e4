// The local engine's worker process: hosts node-llama-cpp (backend/GPU choice, JSON-schema grammars) and the
// native libmtmd bridge. A crash here (bad file, GGML_ASSERT) ends only this process; LocalEngine supervises.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import { loadBridge, NATIVE_DIR, type BridgeModel, type BridgeVariant } from './bridge.ts';
import { bridgeGrammar } from './grammar.ts';
import type { FromWorker, ToWorker, WorkerLoadOptions, WorkerQuestion } from './local-protocol.ts';
import { EngineError, type EngineDevice } from './types.ts';

const SYSTEM = 'You are a helpful assistant.';

let llama: Llama | undefined;
let model: BridgeModel | undefined;
let marker = '<__media__>';
const grammars = new Map<string, string>();

function send(msg: FromWorker): void {
  process.send?.(msg);
}

function nodeLlamaCppVersion(): string | undefined {
  const pkg = join(NATIVE_DIR, '..', '..', '..', 'node_modules', 'node-llama-cpp', 'package.json');
  return existsSync(pkg) ? (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version : undefined;
}

function binsDir(variant: BridgeVariant): string | undefined {
  const name = `${process.platform}-${process.arch}${variant === 'cpu' ? '' : `-${variant}`}`;
  const dir = join(NATIVE_DIR, '..', '..', '..', 'node_modules', '@node-llama-cpp', name, 'bins', name);
  return existsSync(dir) ? dir : undefined;
}

const SOFTWARE_GPU = /llvmpipe|lavapipe|swiftshader|softpipe/i;

/** What `gpu: auto` would pick, probed in a throwaway process: once a variant's libraries are loaded they stay,
 *  and a second variant in the same process slows both down. */
function probeAutoGpu(): { gpu: string | false; names: string[] } {
  const script =
    "import {getLlama} from 'node-llama-cpp'; const l = await getLlama({gpu: 'auto', build: 'never', logLevel: 'disabled', progressLogs: false});" +
    'console.log(JSON.stringify({gpu: l.gpu, names: l.gpu ? await l.getGpuDeviceNames() : []})); process.exit(0);';
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: join(NATIVE_DIR, '..', '..', '..'), timeout: 60_000 });
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

async function ask(id: number, images: Uint8Array[], questions: WorkerQuestion[]): Promise<void> {
  const t0 = performance.now();
  const prefix = `<|im_start|>system\n${SYSTEM}<|im_end|>\n<|im_start|>user\n${images.map(() => marker).join('')}`;
  const qs = await Promise.all(
    questions.map(async (q) => ({
      suffix: `${q.prompt}<|im_end|>\n<|im_start|>assistant\n`,
      grammar: await grammarFor(q.schema),
      maxTokens: q.maxTokens,
    })),
  );
  const r = await model!.ask({ images, prefix, questions: qs });
  send({
    type: 'answers',
    id,
    answers: r.answers.map((a, i) => ({
      questionId: questions[i]!.id,
      raw: a.text,
      stop: a.stop,
      promptTokens: r.prefixTokens + a.suffixTokens,
      outputTokens: a.outputTokens,
    })),
    timings: {
      encodeMs: r.encodeMs,
      prefillMs: r.prefixMs + r.suffixMs,
      decodeMs: r.decodeMs,
      totalMs: performance.now() - t0,
      imageTokens: r.imageTokens,
      imagePrefillMs: r.imagePrefillMs,
    },
  });
}

process.on('disconnect', () => process.exit(0));
process.on('message', (msg: ToWorker) => {
  if (msg.type === 'load') {
    load(msg.options).catch((err: unknown) => {
      const e = err instanceof EngineError ? err : undefined;
      send({
        type: 'loadError',
        code: e?.code ?? 'MODEL_INVALID',
        message: err instanceof Error ? err.message : String(err),
        ...(e?.hint ? { hint: e.hint } : {}),
      });
    });
  } else if (msg.type === 'ask') {
    ask(msg.id, msg.images, msg.questions).catch((err: unknown) =>
      send({ type: 'askError', id: msg.id, message: err instanceof Error ? err.message : String(err) }),
    );
  } else if (msg.type === 'close') {
    void (async () => {
      await model?.close().catch(() => undefined);
      await llama?.dispose().catch(() => undefined);
      process.exit(0);
    })();
  }
});
