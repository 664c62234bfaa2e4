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
  /** Most questions one ask() takes (split longer lists over several asks); null: no limit. */
  maxQuestionsPerAsk: number | null;
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
  /** This question's failure (invalid output, a grammar the engine could not build, ...); the others still answer. */
  error?: EngineError;
  /** The answer stopped at the token cap: the JSON may be cut and lists or counts incomplete. */
  truncated: boolean;
  timings: AnswerTimings;
}

export interface AskRequest {
  /** One frame, or several for a short clip (in time order). */
  frames: EngineImage[];
  questions: EngineQuestion[];
  /** Aborting drops work not yet started; work in flight finishes and is discarded. */
  signal?: AbortSignal;
}

/**
 * Where an engine is in its life. `restarting`: the local worker died unexpectedly and is being restarted
 * with backoff (asks wait for it); `failed`: start() failed (start() may be called again); `closed`: after
 * a requested close(), for good.
 */
export type EngineStatus = 'idle' | 'starting' | 'ready' | 'restarting' | 'closed' | 'failed';

/** An EngineError as plain data (for /api/health and events). */
export interface EngineFault {
  code: EngineErrorCode;
  message: string;
  hint?: string;
  /** Epoch ms. */
  at: number;
}

export interface EngineState {
  status: EngineStatus;
  /** Epoch ms of the last status change. */
  since: number;
  /** Consecutive restarts that did not stay healthy (0 once a run stays up long enough). */
  restarts: number;
  lastError?: EngineFault;
}

/** Typed events of every engine. `died` is an unexpected death, never a requested close (that is `closed`).
 *  A type alias, not an interface, so it fits SafeEmitter's event-map constraint without an index signature. */
export type EngineEvents = {
  ready: [info: EngineInfo];
  died: [error: EngineFault];
  restarting: [restart: { attempt: number; delayMs: number; error: EngineFault }];
  closed: [];
  state: [state: EngineState];
};

export interface VisionEngine {
  readonly info: EngineInfo;
  /** Where the engine is now (the status alone; `health` adds since, restarts and the last error). */
  readonly state: EngineStatus;
  readonly health: EngineState;
  /** Subscribes; returns the unsubscribe function. A throwing listener is isolated (SafeEmitter). */
  on<K extends keyof EngineEvents>(event: K, fn: (...args: EngineEvents[K]) => unknown): () => void;
  /** Resolves when the model is loaded and ready; rejects with an EngineError on startup failure. */
  start(): Promise<void>;
  /**
   * Answers every question about the frames. Rejects only for faults of the whole ask (transport, engine
   * death, timeout, abort, a request the engine cannot take); one question's failure is its answer's `error`.
   */
  ask(req: AskRequest): Promise<EngineAnswer[]>;
  /** Idempotent; ends in `closed` and rejects pending asks with ABORTED. */
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
  | 'INVALID_REQUEST'
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

export function toFault(err: unknown): EngineFault {
  const e = err instanceof EngineError ? err : new EngineError('ENGINE_DIED', err instanceof Error ? err.message : String(err));
  return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}), at: Date.now() };
}
