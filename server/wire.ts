// Wire protocol shared by the server and the dashboard (imported by both, never hand-copied).
// Times: `pdt` is milliseconds since the Unix epoch on the camera's HLS timeline
// (EXT-X-PROGRAM-DATE-TIME + PTS offset): the one key tying a result to a video frame.

import type { CameraState, VideoPath } from '../pipelines/ingest/types.ts';
import type { DetectionMessage, Evaluation, EventRecord } from '../pipelines/rules/types.ts';
import type { Rule } from '../config/rule.ts';
import type { RuleTestResult } from '../pipelines/rules/rule-test.ts';
import type { z } from 'zod';
import type { CompactEvaluationSchema } from './http/vod.ts';

export type { CameraState, VideoPath, DetectionMessage, Evaluation, EventRecord, Rule };
export type { Box, Point } from '../pipelines/vlm/parse.ts';

/** One stored evaluation as GET /api/cameras/:id/evaluations lists it (what the playback overlay draws): the route's own schema. */
export type CompactEvaluation = z.output<typeof CompactEvaluationSchema>;

/** An event as the API and sockets send it: the stored record plus the URLs of its images. */
export interface EventInfo extends EventRecord {
  /** URLs relative to the server root, under /api/events/:id/. */
  snapshot: string;
  annotated: string;
  thumbnail: string;
}

/** What `GET /api/events/:id` answers: the event with every evaluation that belongs to it. */
export interface EventDetail extends EventInfo {
  evaluations: Evaluation[];
}

/** An event change, live: one `opened`, then `updated` (count or best frame changed), then one `closed`. */
export interface EventMessage {
  type: 'opened' | 'updated' | 'closed';
  event: EventInfo;
}

/** A rule as the API lists it. `source: config` rules are read-only (edit the config file). */
export interface RuleInfo {
  rule: Rule;
  version: number;
  source: 'config' | 'api';
  updatedAt: number;
  author: string;
}

/** What `POST /api/rules/:id/test` (and `/api/rules/test` for an unsaved rule) answers: the rule run once on a camera's newest frame, nothing stored. */
export interface RuleTestInfo extends Omit<RuleTestResult, 'annotated' | 'reason' | 'prompt'> {
  camera: string;
  pdt: number;
  /** The exact prompt sent (null when nothing was asked). */
  prompt: string | null;
  /** Error code or skip reason; null when answered. */
  reason: string | null;
  /** The frame with boxes and points drawn: a data:image/jpeg;base64 URL. */
  annotated: string;
}

/** Public view of a camera: safe to send to a browser (no source URL, no credentials). */
export interface CameraInfo {
  id: string;
  name: string;
  state: CameraState;
  /** Why the camera is in this state (offline reason, last error); credentials scrubbed. */
  reason: string | null;
  /** Increments on every ffmpeg (re)start; results from older runs are stale. */
  run: number;
  /**
   * The run whose live playlist is ready (its first segment is listed); null before the first.
   * Players (re)load when it changes, never on `run` alone: a run turns live with its first frame,
   * while the folder may still hold the previous run's playlist.
   */
  hlsRun: number | null;
  lastFramePdt: number | null;
  framesSampled: number;
  framesDropped: number;
  restarts: number;
  /** Live playlist URL relative to the server root. */
  hls: string;
  sampleInterval: number;
  decode: 'keyframes' | 'all';
  /** Copied H.264, or transcoded here (H.265, MJPEG, ...) with why and what it costs; null until probed. */
  video: VideoPath | null;
}

/** One sampled frame, announced to the dashboard (volatile: slow sockets skip some). */
export interface FrameEvent {
  camera: string;
  run: number;
  seq: number;
  pdt: number;
  width: number;
  height: number;
}

/** The vision engine as /api/health reports it; `state: 'none'` when the server runs without one. */
export interface EngineHealth {
  /** The engine's lifecycle state (e.g. starting, ready, restarting, failed, closed), 'pulling' while the default model downloads, or 'none'. */
  state: string;
  kind?: string;
  family?: string;
  model?: string;
  device?: string;
  /** Why it is not ready, and what to do (e.g. no model and no network: `vigil models pull` or set engine.local.model). */
  error?: { code: string; message: string; hint?: string };
  /** Download progress while pulling the default model. */
  pull?: { file: string; bytes: number; total: number | null };
}

export interface HealthInfo {
  ok: true;
  version: string;
  uptimeSeconds: number;
  cameras: number;
  engine: EngineHealth;
}

/** Every HTTP error, and every refused websocket upgrade, carries this body (codes: server/http/errors.ts). */
export interface ErrorBody {
  error: {
    status: number;
    code: string;
    message: string;
    /** INVALID (400): each failing field, e.g. `{path: "trigger.n", message: "n (5) cannot exceed of (3)"}`. */
    issues?: { path: string; message: string }[];
  };
}

/** socket.io events, server to client. */
export interface ServerToClientEvents {
  cameras: (cams: CameraInfo[]) => void;
  camera: (cam: CameraInfo) => void;
  frame: (ev: FrameEvent) => void;
  /** Every evaluation of every rule on the room's camera (positive or not). */
  detections: (d: DetectionMessage) => void;
  /** Event changes of every camera (sent to all clients: the open-alerts list is page-wide). */
  event: (m: EventMessage) => void;
}

/** socket.io events, client to server. */
export interface ClientToServerEvents {
  /** Join a camera's room; the ack returns its current state (resync after reconnect). */
  watch: (cameraId: string, ack: (cam: CameraInfo | null) => void) => void;
  unwatch: (cameraId: string) => void;
}

/** Messages on the plain-JSON websocket `/api/stream` (integrations). */
export type StreamMessage =
  | { type: 'hello'; cameras: CameraInfo[] }
  | { type: 'camera'; camera: CameraInfo }
  | ({ type: 'frame' } & FrameEvent)
  | ({ type: 'detections' } & DetectionMessage)
  | EventMessage;
