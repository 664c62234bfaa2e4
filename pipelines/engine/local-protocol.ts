// Messages between LocalEngine (parent) and its worker process (advanced IPC serialization: Buffers pass as is).
import type { EngineDevice, EngineErrorCode } from './types.ts';

export interface WorkerLoadOptions {
  model: string;
  mmproj: string;
  gpu: 'auto' | 'cuda' | 'vulkan' | 'metal' | 'cpu';
  threads: number;
  contextSize: number;
  maxQuestions: number;
  maxAnswerTokens: number;
  imageMinTokens: number;
  imageMaxTokens: number;
  warmup: boolean;
}

export interface WorkerQuestion {
  id: string;
  prompt: string;
  schema: Record<string, unknown>;
  maxTokens: number;
}

export type ToWorker =
  | { type: 'load'; options: WorkerLoadOptions }
  | { type: 'ask'; id: number; images: Uint8Array[]; questions: WorkerQuestion[] }
  | { type: 'stats'; id: number }
  | { type: 'close' };

export interface WorkerFault {
  code: EngineErrorCode;
  message: string;
  hint?: string;
}

export interface WorkerAnswer {
  questionId: string;
  raw: string;
  /** 'eog' | 'length'; '' when the question never ran (see error). */
  stop: string;
  promptTokens: number;
  outputTokens: number;
  /** This question could not be answered (its grammar, or the ask failed in the bridge). */
  error?: WorkerFault;
}

export interface WorkerTimings {
  encodeMs: number;
  prefillMs: number;
  decodeMs: number;
  totalMs: number;
  imageTokens: number;
  imagePrefillMs: number;
}

/** What the worker is doing now: `loading` the model, `idle`, or a phase of the ask in flight. */
export type WorkerPhase = 'loading' | 'idle' | 'preparing' | 'encoding' | 'prefill' | 'decoding' | 'closing';

export interface WorkerStats {
  phase: WorkerPhase;
  /** Asks and image encodes the native bridge ran since the model loaded. */
  asks: number;
  encodes: number;
  pid: number;
}

export type FromWorker =
  | { type: 'ready'; device: EngineDevice; nCtx: number; variant: string; threads: number }
  | { type: 'loadError'; code: EngineErrorCode; message: string; hint?: string }
  | { type: 'answers'; id: number; answers: WorkerAnswer[]; timings: WorkerTimings }
  | { type: 'stats'; id: number; stats: WorkerStats };
