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
  | { type: 'close' };

export interface WorkerAnswer {
  questionId: string;
  raw: string;
  stop: string;
  promptTokens: number;
  outputTokens: number;
}

export interface WorkerTimings {
  encodeMs: number;
  prefillMs: number;
  decodeMs: number;
  totalMs: number;
  imageTokens: number;
  imagePrefillMs: number;
}

export type FromWorker =
  | { type: 'ready'; device: EngineDevice; nCtx: number; variant: string; threads: number }
  | { type: 'loadError'; code: EngineErrorCode; message: string; hint?: string }
  | { type: 'answers'; id: number; answers: WorkerAnswer[]; timings: WorkerTimings }
  | { type: 'askError'; id: number; message: string };
