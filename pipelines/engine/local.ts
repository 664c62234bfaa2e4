// LocalEngine: Qwen2.5-VL in a supervised worker process (node-llama-cpp + Vigil's libmtmd bridge).
// - start(): resolves model files (downloading the default pair on first use), checks the GGUF pair in this
//   process, then forks the worker and waits for it to load.
// - ask(): a bounded FIFO (BUSY beyond `maxQueue`); one ask runs in the worker at a time, all its questions in
//   one batch. Abort drops queued work (ABORTED); a timeout fails the request and restarts a stuck worker.
// - A worker that dies (segfault, abort, OOM kill) fails the request in flight with ENGINE_DIED and is
//   restarted; this process never dies with it.
import { fork, type ChildProcess } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkModelPair } from './gguf-check.ts';
import type { FromWorker, ToWorker, WorkerLoadOptions } from './local-protocol.ts';
import { missingFilesError, pullDefaultModels, resolveModelFiles } from './models.ts';
import { EngineError, type AskRequest, type EngineAnswer, type EngineInfo, type VisionEngine } from './types.ts';
import { restartDelay } from '../backoff.ts';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'local-worker.ts');
const TSX_LOADER = import.meta.resolve('tsx');
/** Worker restarts after a crash: 200 ms, doubling, at most 5 s. */
const WORKER_RESTART = { initialMs: 200, factor: 2, maxMs: 5000 } as const;
const GRID = 28;

export interface LocalEngineOptions {
  /** engine.local from the config. */
  local: {
    model?: string | undefined;
    mmproj?: string | undefined;
    modelsDir?: string | undefined;
    gpu: 'auto' | 'cuda' | 'vulkan' | 'metal' | 'cpu';
    threads: number;
    contextSize: number;
    maxAnswerTokens: number;
    /** Seconds. */
    timeout: number;
  };
  minPixels: number;
  maxPixels: number;
  /** Asks waiting or running before ask() answers BUSY (default 4). */
  maxQueue?: number;
  /** Most questions in one ask (default 8). */
  maxQuestions?: number;
  /** Download the default pair when missing (default true). */
  autoDownload?: boolean;
  /** Run the encoder once at load (steadier first ask, slower start; default true). */
  warmup?: boolean;
  /** Worker diagnostics (stderr lines); default: process.stderr. */
  log?: (line: string) => void;
}

interface Job {
  id: number;
  req: AskRequest;
  resolve: (a: EngineAnswer[]) => void;
  reject: (e: EngineError) => void;
  timer?: NodeJS.Timeout;
  onAbort?: () => void;
  settled: boolean;
}

export class LocalEngine implements VisionEngine {
  readonly info: EngineInfo;
  private worker: ChildProcess | undefined;
  private loadOptions: WorkerLoadOptions | undefined;
  private queue: Job[] = [];
  private running: Job | undefined;
  private nextId = 1;
  private state: 'idle' | 'starting' | 'ready' | 'closed' = 'idle';
  private starting: Promise<void> | undefined;
  private stderrTail: string[] = [];
  private restarts = 0;

  constructor(private readonly opts: LocalEngineOptions) {
    this.info = {
      kind: 'local',
      family: 'qwen2.5-vl',
      coordinateFrame: 'pixels',
      gridFactor: GRID,
      minPixels: opts.minPixels,
      maxPixels: opts.maxPixels,
      // Until the worker reports what node-llama-cpp chose: the configured backend, `auto` assumed CPU.
      device: opts.local.gpu === 'auto' ? 'cpu' : opts.local.gpu,
      contextSize: opts.local.contextSize,
      model: opts.local.model ? basename(opts.local.model) : 'Qwen2.5-VL-3B-Instruct',
    };
  }

  /** The worker's pid while one runs (tests kill it to prove crash isolation). */
  get workerPid(): number | undefined {
    return this.worker?.pid;
  }

  start(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new EngineError('NOT_STARTED', 'the engine is closed'));
    this.starting ??= this.doStart().catch((err: unknown) => {
      this.starting = undefined;
      this.state = 'idle';
      throw err;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    this.state = 'starting';
    const l = this.opts.local;
    let files = resolveModelFiles(l);
    const missing = missingFilesError(files);
    if (missing) {
      if (files.source !== 'default' || this.opts.autoDownload === false) throw missing;
      files = await pullDefaultModels(l);
    }
    await checkModelPair(files.model, files.mmproj);
    (this.info as { model: string }).model = basename(files.model);
    this.loadOptions = {
      model: files.model,
      mmproj: files.mmproj,
      gpu: l.gpu,
      threads: l.threads,
      contextSize: l.contextSize,
      maxQuestions: this.opts.maxQuestions ?? 8,
      maxAnswerTokens: l.maxAnswerTokens,
      imageMinTokens: Math.max(1, Math.floor(this.opts.minPixels / (GRID * GRID))),
      imageMaxTokens: Math.ceil(this.opts.maxPixels / (GRID * GRID)),
      warmup: this.opts.warmup ?? true,
    };
    await this.spawnWorker();
    if (this.isClosed()) {
      this.worker?.kill('SIGKILL');
      throw new EngineError('NOT_STARTED', 'the engine was closed while starting');
    }
    this.state = 'ready';
  }

  /** `state` as read after an await (close() may have run meanwhile). */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private spawnWorker(): Promise<void> {
    const child = fork(WORKER, [], {
      // tsx resolved from this module, not the cwd: `vigil ask` runs from any directory.
      execArgv: ['--import', TSX_LOADER],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.worker = child;
    this.stderrTail = [];
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        this.stderrTail.push(line);
        if (this.stderrTail.length > 20) this.stderrTail.shift();
        (this.opts.log ?? ((s: string) => process.stderr.write(`[engine worker] ${s}\n`)))(line);
      }
    });
    return new Promise<void>((resolve, reject) => {
      const onLoad = (msg: FromWorker) => {
        if (msg.type === 'ready') {
          (this.info as { device: EngineInfo['device'] }).device = msg.device;
          child.off('exit', onEarlyExit);
          child.on('message', (m: FromWorker) => this.onMessage(m));
          child.on('exit', (code, signal) => this.onExit(child, code, signal));
          resolve();
          this.pump();
        } else if (msg.type === 'loadError') {
          child.off('exit', onEarlyExit);
          child.kill('SIGKILL');
          reject(new EngineError(msg.code, msg.message, msg.hint));
        }
      };
      const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null) => {
        reject(
          new EngineError(
            'MODEL_INVALID',
            `the engine worker died while loading the model (${signal ?? `exit ${code}`})${this.tailText()}`,
            'The GGUF pair passed the header checks but llama.cpp could not load it; re-download the files or try another quantization.',
          ),
        );
      };
      child.once('message', onLoad);
      child.once('exit', onEarlyExit);
      child.send({ type: 'load', options: this.loadOptions! } satisfies ToWorker);
    });
  }

  private tailText(): string {
    const tail = this.stderrTail.slice(-5).join(' | ');
    return tail ? `; last output: ${tail}` : '';
  }

  ask(req: AskRequest): Promise<EngineAnswer[]> {
    if (this.state !== 'ready' && this.state !== 'starting') {
      return Promise.reject(new EngineError('NOT_STARTED', 'the local engine is not started', 'Call start() first.'));
    }
    if (req.signal?.aborted) return Promise.reject(new EngineError('ABORTED', 'the request was aborted before it started'));
    const max = this.opts.maxQuestions ?? 8;
    if (req.questions.length === 0) return Promise.resolve([]);
    if (req.questions.length > max) {
      return Promise.reject(new EngineError('BUSY', `${req.questions.length} questions in one ask; the engine takes at most ${max}`,
        'Split the questions over several asks.'));
    }
    const limit = this.opts.maxQueue ?? 4;
    if (this.queue.length + (this.running ? 1 : 0) >= limit) {
      return Promise.reject(new EngineError('BUSY', `the local engine has ${limit} asks waiting or running`,
        'Ask less often or with fewer cameras; the request was not queued.'));
    }
    return new Promise<EngineAnswer[]>((resolve, reject) => {
      const job: Job = { id: this.nextId++, req, resolve, reject, settled: false };
      job.timer = setTimeout(() => this.onTimeout(job), this.opts.local.timeout * 1000);
      if (req.signal) {
        job.onAbort = () => this.onAbort(job);
        req.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.pump();
    });
  }

  private settle(job: Job, result: EngineAnswer[] | EngineError): void {
    if (job.settled) return;
    job.settled = true;
    clearTimeout(job.timer);
    if (job.onAbort) job.req.signal?.removeEventListener('abort', job.onAbort);
    if (result instanceof EngineError) job.reject(result);
    else job.resolve(result);
  }

  private pump(): void {
    if (this.running || this.state !== 'ready' || !this.worker?.connected) return;
    const job = this.queue.shift();
    if (!job) return;
    this.running = job;
    const maxTokens = this.opts.local.maxAnswerTokens;
    this.worker.send({
      type: 'ask',
      id: job.id,
      images: job.req.frames.map((f) => f.jpeg),
      questions: job.req.questions.map((q) => ({ id: q.id, prompt: q.prompt, schema: q.schema, maxTokens: Math.min(q.maxTokens ?? maxTokens, maxTokens) })),
    } satisfies ToWorker);
  }

  private onMessage(msg: FromWorker): void {
    const job = this.running;
    if (!job || !('id' in msg) || msg.id !== job.id) return;
    this.running = undefined;
    if (msg.type === 'answers') {
      this.settle(
        job,
        msg.answers.map((a) => {
          let value: unknown = null;
          let error: EngineError | undefined;
          try {
            if (a.stop === 'length') throw new Error(`the answer hit the ${a.outputTokens}-token cap`);
            value = JSON.parse(a.raw);
          } catch (err) {
            error = new EngineError('INVALID_OUTPUT', `answer to "${a.questionId}" is not valid JSON: ${err instanceof Error ? err.message : err}`,
              'Bound every array (maxItems) and string (maxLength) in the schema, or raise engine.local.maxAnswerTokens.');
          }
          return {
            questionId: a.questionId,
            raw: a.raw,
            value,
            ...(error ? { error } : {}),
            timings: { ...msg.timings, promptTokens: a.promptTokens, outputTokens: a.outputTokens },
          };
        }),
      );
    } else if (msg.type === 'askError') {
      this.settle(job, new EngineError('INVALID_OUTPUT', `the engine could not answer: ${msg.message}`));
    }
    this.pump();
  }

  private onAbort(job: Job): void {
    const i = this.queue.indexOf(job);
    if (i >= 0) this.queue.splice(i, 1);
    // Work in flight finishes in the worker; its result is discarded.
    this.settle(job, new EngineError('ABORTED', i >= 0 ? 'the request was aborted before it started' : 'the request was aborted; its result is discarded'));
  }

  private onTimeout(job: Job): void {
    const i = this.queue.indexOf(job);
    if (i >= 0) this.queue.splice(i, 1);
    this.settle(job, new EngineError('TIMEOUT', `no answer within ${this.opts.local.timeout} s`,
      'Raise engine.local.timeout, send smaller images (engine.maxPixels) or fewer questions per frame.'));
    // A stuck ask would hold every later one: restart the worker (mtmd cannot cancel an encode).
    if (this.running === job) this.worker?.kill('SIGKILL');
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.worker !== child) return;
    this.worker = undefined;
    const job = this.running;
    this.running = undefined;
    if (job) {
      this.settle(job, new EngineError('ENGINE_DIED', `the engine worker died during this request (${signal ?? `exit ${code}`})${this.tailText()}`,
        'The engine restarts by itself; if this repeats, check the model files and free memory.'));
    }
    if (this.state !== 'ready') return;
    this.state = 'starting';
    const delay = restartDelay(WORKER_RESTART, ++this.restarts);
    setTimeout(() => {
      if (this.state === 'closed') return;
      this.spawnWorker().then(
        () => {
          if (this.isClosed()) {
            this.worker?.kill('SIGKILL');
            return;
          }
          this.state = 'ready';
          this.restarts = 0;
          this.pump();
        },
        (err: EngineError) => {
          if (this.isClosed()) return;
          this.state = 'idle';
          this.starting = undefined;
          for (const j of this.queue.splice(0)) {
            this.settle(j, new EngineError('ENGINE_DIED', `the engine worker could not restart: ${err.message}`, err.hint));
          }
        },
      );
    }, delay);
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    const err = new EngineError('ABORTED', 'the engine closed');
    for (const j of this.queue.splice(0)) this.settle(j, err);
    if (this.running) this.settle(this.running, err);
    this.running = undefined;
    const child = this.worker;
    this.worker = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      if (child.connected) child.send({ type: 'close' } satisfies ToWorker);
      else child.kill('SIGKILL');
    });
  }
}
