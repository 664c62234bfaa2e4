// One ffmpeg run of a camera: what the supervisor tracks from spawn to exit, and how a run is ended. A new run
// (a restart) gets a new number; frames, segments and timers of an ended run are discarded by that number.
import type { ChildProcess } from 'node:child_process';
import type { DecodeMode, SourceInfo } from './args.ts';
import type { LineTail } from './exit-reason.ts';
import type { TimedJpeg } from './frame-stream.ts';
import type { PacketClock } from './packet-clock.ts';
import type { PdtMapper } from './pdt.ts';
import type { WatchdogLimits } from './run-watchdog.ts';

export interface Run {
  no: number;
  child: ChildProcess;
  startNumber: number;
  spawnedAt: number;
  firstFrameAt: number | null;
  lastFrameAt: number | null;
  seq: number;
  /** What the run was started with (the supervisor replaces #info when a run teaches it better). */
  info: SourceInfo;
  clock: PacketClock;
  limits: WatchdogLimits;
  mapper: PdtMapper;
  pending: TimedJpeg[];
  announced: boolean;
  sweptTo: number;
  stderr: LineTail;
  decode: DecodeMode;
  /** PTS of the previous sampled frame and how many gaps in a row were too long for keyframe sampling. */
  lastPts: number | null;
  longGaps: number;
  /** Keyframes the decoder had to conceal parts of (split into one packet per slice, or a lost packet). */
  splitFrames: number;
  /** Set when we end the run ourselves (watchdog, close): the exit is expected, this is the reason. */
  stopReason: string | null;
  closed: Promise<void>;
  timer: NodeJS.Timeout;
  /** Stops watching ffmpeg's playlist (a new segment is published at once, not at the next tick). */
  unwatch: () => void;
  ticking: boolean;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
export function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
