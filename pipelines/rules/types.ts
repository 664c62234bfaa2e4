// Rules stage contract: what one evaluation of a rule on a camera's frame produced, the event it belongs to,
// and the ports the loop writes through (the store implements them; rules never imports the store).
// Times are video time: `pdt` (ms since the epoch on the camera's HLS timeline), never the wall clock.
import type { Rule, Severity } from '../../config/rule.ts';
import type { AnswerTimings } from '../engine/types.ts';
import type { Box, ParsedAnswer, Point } from '../vlm/parse.ts';

export type { Rule, Severity };

/**
 * positive / negative: the model answered and the condition held or not. error: this rule's answer could not be
 * used (invalid output, engine error). skipped: not asked (engine down, frame too old, outside the schedule).
 */
export type Outcome = 'positive' | 'negative' | 'error' | 'skipped';

/** Why an evaluation was skipped or failed: machine-readable, shown in metrics and the dashboard. */
export type SkipReason = 'engine-down' | 'engine-restarting' | 'frame-stale' | 'out-of-schedule' | 'camera-offline';

/** A rule as the loop runs it: the validated rule plus the version it runs under. */
export interface ActiveRule {
  rule: Rule;
  version: number;
}

/** One rule evaluated on one frame (or clip) of one camera. */
export interface Evaluation {
  rule: string;
  ruleVersion: number;
  camera: string;
  run: number;
  /** pdt of the frame evaluated (the newest frame of a clip). */
  pdt: number;
  outcome: Outcome;
  /** For skipped: a SkipReason; for error: the engine's error code (INVALID_OUTPUT, TIMEOUT, ...). */
  reason?: string;
  /** The change gate found the frame unchanged: this repeats the last asked evaluation's outcome without a model call. */
  gated: boolean;
  /** The exact prompt sent (null when nothing was sent). */
  prompt: string | null;
  /** Raw model text (null when not asked). */
  raw: string | null;
  /** The whole parsed answer in source pixels (null when not asked or unreadable). */
  parsed: ParsedAnswer | null;
  /** The objects that made it positive: inside the zones and passing `where` (source pixels). */
  boxes: Box[];
  points: Point[];
  /** Matching objects, or the model's count for count rules; null for yesno/describe. */
  count: number | null;
  truncated: boolean;
  timings: AnswerTimings | null;
  /** Size of the source picture the coordinates refer to. */
  sourceW: number;
  sourceH: number;
}

export type EventState = 'open' | 'closed';
export type Verdict = 'true-positive' | 'false-positive';

/** Why an event closed: negatives in a row, the max length, the schedule ended, the rule changed, shutdown, crash recovery. */
export type CloseReason = 'negatives' | 'max-length' | 'schedule' | 'rule-changed' | 'rule-removed' | 'shutdown' | 'recovered-after-crash';

export interface EventEvidence {
  /** pdt of the best frame. */
  pdt: number;
  /** The frame as the camera sent it to analysis (JPEG), its annotated copy and a thumbnail cropped around the boxes. */
  snapshot: Buffer;
  annotated: Buffer;
  thumbnail: Buffer;
}

/** An event as stored and sent to clients (without the evaluations and file bytes). */
export interface EventRecord {
  id: string;
  rule: string;
  ruleName: string;
  ruleVersion: number;
  camera: string;
  severity: Severity;
  state: EventState;
  startPdt: number;
  /** Last positive pdt while open; the close time once closed. */
  endPdt: number | null;
  closeReason: CloseReason | null;
  /** Largest count seen (objects or the model's count; 1 for yesno/describe positives). */
  peak: number;
  /** pdt of the best frame (the files below show it). */
  bestPdt: number;
  prompt: string;
  engine: { kind: string; model: string };
  /** Recording kept for this event: [start - pre, end + post] in pdt ms. */
  recording: { from: number; to: number | null };
  reviewed: boolean;
  verdict: Verdict | null;
  note: string | null;
  keep: boolean;
  /** Wall-clock ms when the row was written (for latency figures), not video time. */
  createdAt: number;
}

export interface NewEvent {
  rule: ActiveRule;
  camera: string;
  startPdt: number;
  prompt: string;
  engine: { kind: string; model: string };
  peak: number;
  evidence: EventEvidence;
  /** The evaluations that confirmed it (the N of M window). */
  evaluations: Evaluation[];
}

export interface EventUpdate {
  endPdt?: number;
  peak?: number;
  /** A better frame (more objects): replaces the event's files. */
  evidence?: EventEvidence;
}

/**
 * The port the loop writes events and evaluations through. Every call is one transaction; files are written
 * before the rows that point at them, and removed after, so a crash leaves neither a row without its file nor,
 * after the next start's sweep, a file without its row.
 */
/** update and close reject with an error whose `code` is 'EVENT_NOT_FOUND' when the event was deleted meanwhile. */
export interface EventSink {
  open(e: NewEvent): Promise<EventRecord>;
  update(id: string, change: EventUpdate): Promise<EventRecord>;
  /** `framePdt`: the evaluation that closed it (default endPdt), for notification latency. */
  close(id: string, endPdt: number, reason: CloseReason, framePdt?: number): Promise<EventRecord>;
  /** Stores evaluations; those with an `eventId` belong to that event's evidence. */
  addEvaluations(evals: ReadonlyArray<{ evaluation: Evaluation; eventId: string | null }>): Promise<void>;
  /** Closes every open event (shutdown, or the next start after a crash); returns what it closed. */
  closeAllOpen(reason: CloseReason): Promise<EventRecord[]>;
}

/** What happened to the alert state of one (rule, camera) after an evaluation: the loop turns these into store calls and messages. */
export type StateChange =
  | { type: 'opened'; pdt: number }
  | { type: 'updated'; pdt: number; peak: number; betterFrame: boolean }
  | { type: 'closed'; pdt: number; reason: CloseReason };

/** Live messages, published by the loop and forwarded by the server (socket.io camera room, /api/stream). */
export interface DetectionMessage {
  camera: string;
  run: number;
  pdt: number;
  rule: string;
  outcome: Outcome;
  positive: boolean;
  /** Repeated by the change gate (no model call). */
  gated: boolean;
  boxes: Box[];
  points: Point[];
  count: number | null;
  /** yes/no, or the description; null for object kinds. */
  answer: string | null;
  /** Source picture size the coordinates refer to. */
  sourceW: number;
  sourceH: number;
}

export interface EventMessage {
  type: 'opened' | 'updated' | 'closed';
  event: EventRecord;
  /** pdt of the frame whose evaluation caused this message (for frame-to-message latency). */
  framePdt: number;
}
