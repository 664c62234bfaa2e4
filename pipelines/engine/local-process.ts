// One local-engine worker process as the parent sees it: fork, a permanent 'error' listener (an IPC send to
// a worker that just died fails with EPIPE, which without a listener is an uncaught exception here), the
// last lines of its stderr for error messages, load, stats, and a close that always ends the process.
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.ts';
import type { FromWorker, ToWorker, WorkerLoadOptions, WorkerStats } from './local-protocol.ts';
import { EngineError, type EngineDevice } from './types.ts';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'local-worker.ts');
const TSX_LOADER = import.meta.resolve('tsx');
/** A requested close waits this long for the worker to free the model before killing it. */
const CLOSE_GRACE_MS = 5000;

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export const describeExit = (e: WorkerExit) => e.signal ?? `exit ${e.code}`;

export class WorkerProcess {
  private readonly child: ChildProcess;
  private readonly tail: string[] = [];
  private nextStatsId = 1;
  private readonly statsWaiters = new Map<number, (s: WorkerStats | undefined) => void>();
  private exitInfo: WorkerExit | undefined;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<WorkerExit>;

  constructor(
    private readonly log: Logger,
    onMessage: (msg: FromWorker) => void,
  ) {
    this.child = fork(WORKER, [], {
      // tsx resolved from this module, not the cwd: `vigil ask` runs from any directory.
      execArgv: ['--import', TSX_LOADER],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let ended!: (e: WorkerExit) => void;
    this.exited = new Promise((resolve) => (ended = resolve));
    const end = (e: WorkerExit) => {
      if (this.exitInfo) return;
      this.exitInfo = e;
      for (const w of this.statsWaiters.values()) w(undefined);
      this.statsWaiters.clear();
      ended(e);
    };
    this.child.once('exit', (code, signal) => end({ code, signal }));
    // Permanent: spawn failures (no 'exit' follows those) and sends racing the worker's death (EPIPE).
    this.child.on('error', (err) => {
      this.log.warn({ err, pid: this.child.pid }, 'engine worker process error');
      if (this.child.pid === undefined) end({ code: -1, signal: null });
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        this.tail.push(line);
        if (this.tail.length > 20) this.tail.shift();
        this.log.warn({ pid: this.child.pid, line }, 'engine worker output');
      }
    });
    this.child.on('message', (msg: FromWorker) => {
      if (msg.type === 'stats') {
        this.statsWaiters.get(msg.id)?.(msg.stats);
        this.statsWaiters.delete(msg.id);
      } else onMessage(msg);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exitInfo === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last stderr lines, for error messages. */
  tailText(): string {
    const tail = this.tail.slice(-5).join(' | ');
    return tail ? `; last output: ${tail}` : '';
  }

  /** Sends unless the channel is gone; a send that races the worker's death lands in the 'error' listener. */
  send(msg: ToWorker): boolean {
    if (!this.child.connected) return false;
    this.child.send(msg, (err) => {
      if (err) this.log.warn({ err: err.message, pid: this.child.pid }, 'message to the engine worker was lost');
    });
    return true;
  }

  /** Loads the model; resolves with what the worker chose, rejects with an EngineError. */
  load(options: WorkerLoadOptions, timeoutMs: number): Promise<{ device: EngineDevice }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new EngineError('TIMEOUT', `the engine worker did not load the model within ${Math.round(timeoutMs / 1000)} s`,
          'Check free memory and the model files; a very large model on a slow disk may need more time.'));
        this.kill();
      }, timeoutMs);
      const onMsg = (msg: FromWorker) => {
        if (msg.type === 'ready') done(() => resolve({ device: msg.device }));
        else if (msg.type === 'loadError') done(() => reject(new EngineError(msg.code, msg.message, msg.hint)), true);
      };
      const done = (fn: () => void, kill = false) => {
        clearTimeout(timer);
        this.child.off('message', onMsg);
        if (kill) this.kill();
        fn();
      };
      this.child.on('message', onMsg);
      void this.exited.then((exit) =>
        done(() =>
          reject(new EngineError('MODEL_INVALID', `the engine worker died while loading the model (${describeExit(exit)})${this.tailText()}`,
            exit.signal === 'SIGKILL'
              ? 'It was killed from outside (often the out-of-memory killer): check free memory, then start the engine again.'
              : 'The GGUF pair passed the header checks but llama.cpp could not load it; re-download the files or try another quantization.')),
        ),
      );
      if (!this.send({ type: 'load', options })) done(() => reject(new EngineError('ENGINE_DIED', 'the engine worker exited before loading')));
    });
  }

  /** What the worker is doing and the native counters; undefined when it is gone or does not answer in 2 s. */
  stats(): Promise<WorkerStats | undefined> {
    const id = this.nextStatsId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(undefined), 2000);
      const finish = (s: WorkerStats | undefined) => {
        clearTimeout(timer);
        this.statsWaiters.delete(id);
        resolve(s);
      };
      this.statsWaiters.set(id, finish);
      if (!this.send({ type: 'stats', id })) finish(undefined);
    });
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  /** Asks the worker to free the model and exit; kills it after a grace period. Resolves once it exited. */
  async close(): Promise<WorkerExit> {
    if (!this.alive) return this.exited;
    const timer = setTimeout(() => this.kill(), CLOSE_GRACE_MS);
    if (!this.send({ type: 'close' })) this.kill();
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}
