// Ingest stage contract: what a camera supervisor consumes (config) and emits (frames, state).
/** What a camera is doing now; the wire module re-exports it for the dashboard. */
export type CameraState = 'connecting' | 'live' | 'offline' | 'disabled';

/** A sampled, decoded frame with its exact timestamps. */
export interface Frame {
  camera: string;
  /** ffmpeg run number; frames of an ended run are discarded downstream. */
  run: number;
  /** Index of this frame within its run. */
  seq: number;
  /** Presentation time in seconds, source timebase (from showinfo). */
  pts: number;
  /** Wall-clock time (ms since epoch) of this frame on the HLS timeline. */
  pdt: number;
  /** JPEG bytes, already scaled to a size on the model grid. */
  jpeg: Buffer;
  width: number;
  height: number;
  /** Size of the camera's picture (what the probe saw): boxes for evidence are mapped back to source pixels. */
  sourceW: number;
  sourceH: number;
}

export interface CameraSnapshot {
  id: string;
  name: string;
  state: CameraState;
  reason: string | null;
  run: number;
  lastFramePdt: number | null;
  framesSampled: number;
  framesDropped: number;
  restarts: number;
  decode: 'keyframes' | 'all';
  sampleInterval: number;
  /** How the live video reaches browsers (copied or transcoded, and why); absent or null until the source is probed. */
  video?: VideoPath | null;
}

/** How the live HLS is made: the camera's H.264 copied, or re-encoded to H.264 here (CPU; see `reason`). */
export interface VideoPath {
  mode: 'copy' | 'transcode';
  /** Source codec as ffprobe names it (h264, hevc, mjpeg); null for the raw synthetic source. */
  codec: string | null;
  /** Why it is transcoded and roughly what it costs, for operators; null when copied. */
  reason: string | null;
}

export interface CameraSupervisorEvents {
  frame: [Frame];
  state: [CameraSnapshot];
  /** A new ffmpeg run began (players must reload the live playlist). */
  run: [CameraSnapshot];
}
