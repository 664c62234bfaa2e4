// One ffmpeg run as two processes joined by AccessUnitJoiner (access-units.ts), for cameras whose frames reach
// ffmpeg split into one packet per slice (probe.ts `splitFrames`): the first ffmpeg holds the one connection to the
// camera and copies its video into FLV on stdout; the joiner merges the slices of each frame; the second ffmpeg
// reads whole frames on stdin and writes HLS and sampled frames exactly as a single-process run does.
//
// The pair looks like one child process to the supervisor: stdout is the second ffmpeg's (JPEGs), stderr carries
// whole lines of both (the first's connection errors feed the offline reason), kill() signals both, and 'exit' /
// 'close' come once, after both have exited, with the camera side's non-zero code first (a refused connection
// says more than the EOF the second ffmpeg then sees).
import { spawn, type ChildProcess } from 'node:child_process';
import { spawnChild, tiedCommand } from './child.ts';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { AccessUnitJoiner } from './access-units.ts';

export interface RunCommand {
  args: string[];
  /** Arguments of the camera-side ffmpeg when the run is split in two (`args` then read FLV on stdin). */
  frontArgs?: string[];
}

export const SPLIT_FRAMES_REASON = 'camera sends each frame as several packets (one per slice): restarting with slices joined';

const CONCEALED_KEYFRAME = /concealing \d+ DC, \d+ AC, \d+ MV errors in I frame/;

/**
 * Whether an ffmpeg stderr line shows a keyframe decoded from part of its slices (the decoder got one packet per
 * slice and concealed the rest). A probe can miss split keyframes (a long GOP puts none in its window); the run shows
 * them here. The supervisor acts on the second such line (one could be a lost packet). Not the HLS copy's
 * "Non-monotonous DTS" warning: ffmpeg also prints that when it guesses DTS at the start of a run.
 */
export function showsSplitFrames(line: string): boolean {
  return CONCEALED_KEYFRAME.test(line);
}

/** Spawns a run: one ffmpeg, or the joined pair when `frontArgs` is set. */
export function spawnRun(ffmpegPath: string, cmd: RunCommand, onError: (err: Error) => void): ChildProcess {
  if (!cmd.frontArgs) return spawnChild(ffmpegPath, cmd.args, { stdio: ['ignore', 'pipe', 'pipe'] }, onError);
  // JoinedRun implements the part of ChildProcess the supervisor and terminate() use (stdout, stderr, kill, exitCode,
  // signalCode, 'error' / 'exit' / 'close'), so the supervisor needs no second code path.
  const run = new JoinedRun(ffmpegPath, cmd.frontArgs, cmd.args);
  run.on('error', onError);
  return run as unknown as ChildProcess;
}

type Exit = { code: number | null; signal: NodeJS.Signals | null };

class JoinedRun extends EventEmitter {
  readonly stdout: NodeJS.ReadableStream;
  readonly stderr = new PassThrough();
  readonly joiner = new AccessUnitJoiner();
  readonly #front: ChildProcess;
  readonly #back: ChildProcess;
  readonly #exited = new Map<ChildProcess, Exit>();
  readonly #closed = new Set<ChildProcess>();
  #done: Exit | null = null;
  #errored = false;

  constructor(ffmpegPath: string, frontArgs: string[], backArgs: string[]) {
    super();
    // Both die with Vigil (setpriv --pdeathsig), like a single run's ffmpeg.
    this.#front = spawn(...tiedCommand(ffmpegPath, frontArgs), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#back = spawn(...tiedCommand(ffmpegPath, backArgs), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.stdout = this.#back.stdout!;
    // A dying second ffmpeg closes its stdin under the joiner: that is an exit to report, not a crash.
    this.#back.stdin!.on('error', () => undefined);
    this.joiner.on('error', (err) => this.stderr.write(`access unit joiner: ${err.message}\n`));
    this.#front.stdout!.pipe(this.joiner).pipe(this.#back.stdin!);
    for (const child of [this.#front, this.#back]) {
      forwardLines(child.stderr!, this.stderr);
      child.on('error', (err) => this.#onError(err));
      child.once('exit', (code, signal) => this.#onExit(child, { code, signal }));
      child.once('close', () => this.#onClose(child));
    }
  }

  get pid(): number | undefined {
    return this.#back.pid;
  }

  get exitCode(): number | null {
    return this.#done ? this.#done.code : null;
  }

  get signalCode(): NodeJS.Signals | null {
    return this.#done ? this.#done.signal : null;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    const a = this.#front.kill(signal);
    const b = this.#back.kill(signal);
    return a || b;
  }

  #onError(err: Error): void {
    if (this.#errored) return;
    this.#errored = true;
    this.emit('error', err);
    this.kill('SIGKILL');
  }

  #onExit(child: ChildProcess, exit: Exit): void {
    this.#exited.set(child, exit);
    if (child === this.#back) {
      // Nothing reads the camera side any more: drain what it already wrote (its stdout must end for it to close)
      // and stop it.
      this.#front.stdout!.unpipe(this.joiner);
      this.#front.stdout!.resume();
      if (!this.#exited.has(this.#front)) this.#front.kill('SIGTERM');
    }
    // The camera side ending needs nothing: the joiner flushes and the second ffmpeg sees EOF.
    if (this.#exited.size < 2) return;
    const front = this.#exited.get(this.#front)!;
    const back = this.#exited.get(this.#back)!;
    this.#done = front.code ? front : back;
    this.emit('exit', this.#done.code, this.#done.signal);
    this.#maybeClosed();
  }

  #onClose(child: ChildProcess): void {
    this.#closed.add(child);
    this.#maybeClosed();
  }

  /** 'close' once both have exited and all their output has been read (the supervisor reads stderr to the end). */
  #maybeClosed(): void {
    if (!this.#done || this.#closed.size < 2 || this.stderr.writableEnded) return;
    this.stderr.end();
    this.emit('close', this.#done.code, this.#done.signal);
  }
}

/** Copies whole lines from `from` into `to`, so lines of two processes never interleave mid-line. */
function forwardLines(from: NodeJS.ReadableStream, to: PassThrough): void {
  let rest = '';
  from.setEncoding('utf8');
  from.on('data', (chunk: string) => {
    const text = rest + chunk;
    const cut = text.lastIndexOf('\n');
    if (cut < 0) {
      rest = text;
      return;
    }
    rest = text.slice(cut + 1);
    if (!to.writableEnded) to.write(text.slice(0, cut + 1));
  });
  from.on('end', () => {
    if (rest && !to.writableEnded) to.write(`${rest}\n`);
    rest = '';
  });
}
