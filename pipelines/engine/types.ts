// The VisionEngine contract shared by the local (node-llama-cpp + mtmd bridge) and OpenAI-compatible engines.
// Images arrive already on the model grid (pipelines/grid.ts); engines never resize.

export type ModelFamily = 'qwen2.5-vl' | 'qwen3-vl' | 'gemini';
/** `pixels`: coordinates in pixels of the sent image; `norm1000`: 0..1000 relative (Qwen3-VL, Gemini). */
export type CoordinateFrame = 'pixels' | 'norm1000';
export type EngineDevice = 'cpu' | 'cuda' | 'vulkan' | 'metal' | 'remote';

export interface EngineInfo {
  kind: 'local' | 'openai';
  family: ModelFamily;
  coordinateFrame: CoordinateFrame;
  /** Grid factor of the vision encoder (28 for Qwen2.5-VL, 32 for Qwen3-VL). */
  gridFactor: number;
  minPixels: number;
  maxPixels: number;
  device: EngineDevice;
  contextSize: number;
  /** Model file name or remote model id. */
  model: string;
}

/** One image, already resized to a size on the model grid. */
export interface EngineImage {
  jpeg: Buffer;
  width: number;
  height: number;
}

/** One question about the frame(s): a user prompt and the JSON Schema its answer must satisfy. */
export interface EngineQuestion {
  id: string;
  prompt: string;
  /** JSON Schema with bounded arrays and strings; the local engine turns it into a grammar. */
  schema: Record<string, unknown>;
  maxTokens?: number;
}

export interface AnswerTimings {
  /** Image encode (shared by all questions of one ask). */
  encodeMs: number;
  /** Prompt prefill (shared prefix + this question's suffix). */
  prefillMs: number;
  decodeMs: number;
  totalMs: number;
  promptTokens: number;
  outputTokens: number;
  /** Image tokens in the prompt and their share of prefillMs (local engine). */
  imageTokens?: number;
  imagePrefillMs?: number;
}

export interface EngineAnswer {
  questionId: string;
  /** Raw model text. */
  raw: string;
  /** JSON.parse(raw) when it parsed, else null with `error` set. */
  value: unknown;
  error?: EngineError;
  timings: AnswerTimings;
}

export interface AskRequest {
  /** One frame, or several for a short clip (in time order). */
  frames: EngineImage[];
  questions: EngineQuestion[];
  /** Aborting drops work not yet started; work in flight finishes and is discarded. */
  signal?: AbortSignal;
}

export interface VisionEngine {
  readonly info: EngineInfo;
  /** Resolves when the model is loaded and ready; rejects with an EngineError on startup failure. */
  start(): Promise<void>;
  ask(req: AskRequest): Promise<EngineAnswer[]>;
  /** Idempotent. */
  close(): Promise<void>;
}

export type EngineErrorCode =
  | 'MODEL_MISSING'
  | 'NOT_VISION_MODEL'
  | 'PROJECTOR_MISMATCH'
  | 'MODEL_INVALID'
  | 'TIMEOUT'
  | 'ENGINE_DIED'
  | 'INVALID_OUTPUT'
  | 'ABORTED'
  | 'BUSY'
  | 'REMOTE_ERROR'
  | 'NOT_STARTED';

/** Errors as data: a code, a message that says what happened, and a hint that says what to do next. */
export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EngineError';
  }
}
