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
}

export interface CameraSupervisorEvents {
  frame: [Frame];
  state: [CameraSnapshot];
  /** A new ffmpeg run began (players must reload the live playlist). */
  run: [CameraSnapshot];
}
