// LocalEngine: Qwen2.5-VL in a supervised worker process (node-llama-cpp + Vigil's libmtmd bridge).
// - start(): resolves model files (downloading the default pair on first use), checks the GGUF pair in this
//   process (and derives the family from the projector), then forks the worker and waits for it to load.
//   close() at any point wins: the download is aborted, a loading worker killed, start() rejects.
// - ask(): FIFO, one ask in the worker at a time with all its questions in one batch; no bound of its own
//   (the caller's scheduler owns in-flight limits) beyond info.maxQuestionsPerAsk questions per ask.
//   Abort drops queued work (ABORTED); a timeout fails the request and restarts a stuck worker.
// - A worker that dies (segfault, abort, OOM kill) fails the request in flight with ENGINE_DIED, emits
//   `died` and `restarting`, and is restarted with the shared backoff (reset after a healthy run), forever:
//   asks wait for the restart, or fail at once when a restart attempt fails. This process never dies with it.
import { basename } from 'node:path';
import type { BackoffPolicy } from '../../config/schema.ts';
import { nextFailureCount, restartDelay } from '../backoff.ts';
import { silentLogger, type Logger } from '../log.ts';
import { FAMILY_FACTS } from './families.ts';
import { checkModelPair } from './gguf-check.ts';
import { EngineLifecycle } from './lifecycle.ts';
import { describeExit, WorkerProcess } from './local-process.ts';
import type { FromWorker, WorkerAnswer, WorkerLoadOptions, WorkerStats, WorkerTimings } from './local-protocol.ts';
import { missingFilesError, pullDefaultModels, resolveModelFiles, type PullOptions } from './models.ts';
import { EngineError, type AskRequest, type EngineAnswer, type EngineInfo, type VisionEngine } from './types.ts';

/** Worker restarts after an unexpected death: 0.5 s doubling to 30 s; a run that stayed up 60 s starts over. */
export const WORKER_RESTART: BackoffPolicy = { initialMs: 500, factor: 2, maxMs: 30_000, resetAfterMs: 60_000 };
const DEFAULT_MAX_QUESTIONS = 8;

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
  /** Most questions in one ask: one KV sequence each (default 8); info.maxQuestionsPerAsk. */
  maxQuestions?: number;
  /** Download the default pair when missing (default true). */
  autoDownload?: boolean;
  /** Where the default pair is downloaded from instead of Hugging Face (else $VIGIL_MODELS_BASE_URL). */
  downloadBaseUrl?: string;
  /** Progress of the default pair's download (bytes of both files together), for a status page or log lines. */
  onPullProgress?: PullOptions['onProgress'];
  /** Draw node-llama-cpp's progress bar on stderr while downloading (default: when stderr is a TTY). */
  showPullProgress?: boolean;
  /** Run the encoder once at load (steadier first ask, slower start; default true). */
  warmup?: boolean;
  /** Restart backoff after worker deaths (default WORKER_RESTART). */
  restart?: BackoffPolicy;
  /** Longest model load before the worker is killed (default 10 min). */
  loadTimeoutMs?: number;
  /** Worker output, deaths and restarts; default silent (the composition root injects a child logger). */
  log?: Logger;
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

const closedWhileStarting = () => new EngineError('NOT_STARTED', 'the engine was closed while starting');
const DIED_HINT = 'The engine restarts by itself; if this repeats, check the model files and free memory.';

export class LocalEngine extends EngineLifecycle implements VisionEngine {
  readonly info: EngineInfo;
  private worker: WorkerProcess | undefined;
  private loadOptions: WorkerLoadOptions | undefined;
  private queue: Job[] = [];
  private running: Job | undefined;
  private nextId = 1;
  private starting: Promise<void> | undefined;
  private readonly lifetime = new AbortController();
  private restartTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private readyAt = 0;

  constructor(private readonly opts: LocalEngineOptions) {
    super(opts.log ?? silentLogger);
    const fam = FAMILY_FACTS['qwen2.5-vl'];
    this.info = {
      kind: 'local',
      family: 'qwen2.5-vl',
      coordinateFrame: fam.coordinateFrame,
      gridFactor: fam.gridFactor,
      minPixels: opts.minPixels,
      maxPixels: opts.maxPixels,
      // Until the worker reports what node-llama-cpp chose: the configured backend, `auto` assumed CPU.
      device: opts.local.gpu === 'auto' ? 'cpu' : opts.local.gpu,
      contextSize: opts.local.contextSize,
      model: opts.local.model ? basename(opts.local.model) : 'Qwen2.5-VL-3B-Instruct',
      maxQuestionsPerAsk: opts.maxQuestions ?? DEFAULT_MAX_QUESTIONS,
    };
  }

  /** A method, not a narrowed property read: close() may run during any await. */
  private isClosed(): boolean {
    return this.status === 'closed';
  }

  /** The worker's pid while one runs (tests kill it to prove crash isolation). */
  get workerPid(): number | undefined {
    return this.worker?.pid;
  }

  /** What the worker is doing and how many asks and image encodes the native bridge ran; undefined without one. */
  workerStats(): Promise<WorkerStats | undefined> {
    return this.worker?.stats() ?? Promise.resolve(undefined);
  }

  start(): Promise<void> {
    if (this.isClosed()) return Promise.reject(new EngineError('NOT_STARTED', 'the engine is closed'));
    if (this.status === 'ready' || this.status === 'restarting') return Promise.resolve();
    this.starting ??= this.doStart().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async doStart(): Promise<void> {
    this.setStatus('starting');
    try {
      this.loadOptions = await this.prepare();
      if (this.isClosed()) throw closedWhileStarting();
      await this.launch();
      if (this.isClosed()) throw closedWhileStarting();
    } catch (err) {
      const e = this.isClosed() ? closedWhileStarting() : asEngineError(err);
      if (this.status !== 'closed') this.setStatus('failed', e);
      // Asks that queued behind this start fail now, not at their timeout.
      this.failQueue(new EngineError(e.code, `the engine could not start: ${e.message}`, e.hint));
      throw e;
    }
    this.becomeReady(0);
  }

  /** Model files (downloaded if needed, abortable by close()), the pair check, and the worker's load options. */
  private async prepare(): Promise<WorkerLoadOptions> {
    const l = this.opts.local;
    let files = resolveModelFiles(l);
    if (missingFilesError(files)) {
      if (files.source !== 'default' || this.opts.autoDownload === false) throw missingFilesError(files)!;
      const { onPullProgress: onProgress, showPullProgress: showProgress } = this.opts;
      files = await pullDefaultModels(l, {
        signal: this.lifetime.signal,
        baseUrl: this.opts.downloadBaseUrl,
        ...(onProgress ? { onProgress } : {}),
        ...(showProgress !== undefined ? { showProgress } : {}),
      });
    }
    const pair = await checkModelPair(files.model, files.mmproj);
    const fam = FAMILY_FACTS[pair.family];
    Object.assign(this.info, { model: basename(files.model), family: pair.family, coordinateFrame: fam.coordinateFrame, gridFactor: fam.gridFactor });
    const g = fam.gridFactor ** 2;
    return {
      model: files.model,
      mmproj: files.mmproj,
      gpu: l.gpu,
      threads: l.threads,
      contextSize: l.contextSize,
      maxQuestions: this.info.maxQuestionsPerAsk!,
      maxAnswerTokens: l.maxAnswerTokens,
      imageMinTokens: Math.max(1, Math.floor(this.opts.minPixels / g)),
      imageMaxTokens: Math.ceil(this.opts.maxPixels / g),
      warmup: this.opts.warmup ?? true,
    };
  }

  /** Forks a worker and waits until it loaded the model. close() kills it through this.worker. */
  private async launch(): Promise<void> {
    const w = new WorkerProcess(this.log, (msg) => this.onMessage(w, msg));
    this.worker = w;
    void w.exited.then((exit) => this.onWorkerExit(w, describeExit(exit)));
    const { device } = await w.load(this.loadOptions!, this.opts.loadTimeoutMs ?? 600_000);
    this.info.device = device;
  }

  private becomeReady(failures: number): void {
    this.failures = failures;
    this.readyAt = Date.now();
    this.setStatus('ready', undefined, failures);
    this.emit('ready', this.info);
    this.pump();
  }

  ask(req: AskRequest): Promise<EngineAnswer[]> {
    const s = this.status;
    if (s !== 'ready' && s !== 'starting' && s !== 'restarting') {
      return Promise.reject(new EngineError('NOT_STARTED', `the local engine is ${s}`, 'Call start() first (and check its error).'));
    }
    if (req.signal?.aborted) return Promise.reject(new EngineError('ABORTED', 'the request was aborted before it started'));
    if (req.questions.length === 0) return Promise.resolve([]);
    if (req.frames.length === 0) return Promise.reject(new EngineError('INVALID_REQUEST', 'a request needs at least one frame'));
    const max = this.info.maxQuestionsPerAsk!;
    if (req.questions.length > max) {
      return Promise.reject(new EngineError('INVALID_REQUEST', `${req.questions.length} questions in one ask; this engine takes at most ${max} (info.maxQuestionsPerAsk)`,
        'Split the questions over several asks.'));
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

  private failQueue(err: EngineError): void {
    for (const j of this.queue.splice(0)) this.settle(j, err);
  }

  private pump(): void {
    if (this.running || this.status !== 'ready' || !this.worker?.alive) return;
    const job = this.queue.shift();
    if (!job) return;
    this.running = job;
    const cap = this.opts.local.maxAnswerTokens;
    const sent = this.worker.send({
      type: 'ask',
      id: job.id,
      images: job.req.frames.map((f) => f.jpeg),
      questions: job.req.questions.map((q) => ({ id: q.id, prompt: q.prompt, schema: q.schema, maxTokens: Math.min(q.maxTokens ?? cap, cap) })),
    });
    // Not sent: the worker is going; its exit fails this job and restarts it.
    if (!sent) this.log.warn({ job: job.id }, 'engine worker channel closed; waiting for its exit');
  }

  private onMessage(w: WorkerProcess, msg: FromWorker): void {
    const job = this.running;
    if (w !== this.worker || msg.type !== 'answers' || !job || msg.id !== job.id) return;
    this.running = undefined;
    this.settle(job, msg.answers.map((a) => toAnswer(a, msg.timings)));
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
    if (this.running === job) this.worker?.kill();
  }

  private onWorkerExit(w: WorkerProcess, how: string): void {
    if (w !== this.worker) return;
    this.worker = undefined;
    const job = this.running;
    this.running = undefined;
    if (this.isClosed()) return;
    if (job) this.settle(job, new EngineError('ENGINE_DIED', `the engine worker died during this request (${how})${w.tailText()}`, DIED_HINT));
    // A death while starting or restarting is reported by the load that was waiting for it.
    if (this.status !== 'ready') return;
    const failures = nextFailureCount(this.restartPolicy, this.failures, Date.now() - this.readyAt);
    this.scheduleRestart(new EngineError('ENGINE_DIED', `the engine worker died (${how})${w.tailText()}`, DIED_HINT), failures);
  }

  private get restartPolicy(): BackoffPolicy {
    return this.opts.restart ?? WORKER_RESTART;
  }

  private scheduleRestart(error: EngineError, failures: number): void {
    this.failures = failures;
    const fault = this.setStatus('restarting', error, failures)!;
    this.log.error({ err: fault }, 'engine worker died');
    this.emit('died', fault);
    const delayMs = restartDelay(this.restartPolicy, failures);
    this.emit('restarting', { attempt: failures, delayMs, error: fault });
    this.restartTimer = setTimeout(() => void this.restart(), delayMs);
  }

  private async restart(): Promise<void> {
    if (this.isClosed()) return;
    try {
      await this.launch();
    } catch (err) {
      if (this.isClosed()) return;
      const e = asEngineError(err);
      this.failQueue(new EngineError('ENGINE_DIED', `the engine worker could not restart: ${e.message}`, e.hint ?? DIED_HINT));
      this.scheduleRestart(e, this.failures + 1);
      return;
    }
    if (this.isClosed()) return;
    this.becomeReady(this.failures);
  }

  async close(): Promise<void> {
    if (this.isClosed()) return;
    this.setStatus('closed');
    this.lifetime.abort(closedWhileStarting());
    clearTimeout(this.restartTimer);
    const err = new EngineError('ABORTED', 'the engine closed');
    this.failQueue(err);
    if (this.running) this.settle(this.running, err);
    this.running = undefined;
    const w = this.worker;
    this.worker = undefined;
    await w?.close();
    this.emit('closed');
  }
}

function asEngineError(err: unknown): EngineError {
  return err instanceof EngineError ? err : new EngineError('ENGINE_DIED', err instanceof Error ? err.message : String(err));
}

function toAnswer(a: WorkerAnswer, timings: WorkerTimings): EngineAnswer {
  const truncated = a.stop === 'length';
  let value: unknown = null;
  let error: EngineError | undefined = a.error ? new EngineError(a.error.code, a.error.message, a.error.hint) : undefined;
  if (!error) {
    try {
      if (truncated) throw new Error(`the answer was cut at the ${a.outputTokens}-token cap`);
      value = JSON.parse(a.raw);
    } catch (err) {
      error = new EngineError('INVALID_OUTPUT', `answer to "${a.questionId}" is not valid JSON: ${err instanceof Error ? err.message : err}`,
        truncated ? 'Raise engine.local.maxAnswerTokens (the schema allows a longer answer) or ask for fewer items.'
          : 'Bound every array (maxItems) and string (maxLength) in the schema, or raise engine.local.maxAnswerTokens.');
    }
  }
  return {
    questionId: a.questionId,
    raw: a.raw,
    value,
    ...(error ? { error } : {}),
    truncated,
    timings: { ...timings, promptTokens: a.promptTokens, outputTokens: a.outputTokens },
  };
}
