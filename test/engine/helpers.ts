// Shared setup for the engine tests: the tiny random-weight pair and engine options around it.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { TINY_SHAPES, writeQwen25VLPair, writeTinyQwen25VL, type ModelPair } from '../fixtures/gguf/index.ts';
import type { LocalEngineOptions } from '../../pipelines/engine/local.ts';
import type { EngineImage, EngineQuestion } from '../../pipelines/engine/types.ts';

export const TMP = join(process.cwd(), 'test', '.tmp', 'engine');

export function tinyPair(name = 'tiny'): ModelPair {
  const dir = join(TMP, name);
  mkdirSync(dir, { recursive: true });
  return writeTinyQwen25VL(dir);
}

export function engineOptions(model: string, mmproj: string, over: Partial<LocalEngineOptions['local']> = {}): LocalEngineOptions {
  return {
    local: { model, mmproj, gpu: 'auto', threads: 2, contextSize: 2048, maxAnswerTokens: 192, timeout: 60, ...over },
    minPixels: 3136,
    maxPixels: 200704,
    autoDownload: false,
  };
}

/** A frame already on the 28-pixel grid. */
export async function frame(width = 224, height = 168): Promise<EngineImage> {
  const jpeg = await sharp({ create: { width, height, channels: 3, background: { r: 40, g: 120, b: 200 } } }).jpeg().toBuffer();
  return { jpeg, width, height };
}

/** Tiny text model with a heavier vision tower: an image encode of a 1008x1008 frame takes a noticeable
 *  while, so tests can act while the worker is encoding. */
export function slowEncodePair(): ModelPair {
  const dir = join(TMP, 'slow-encode');
  mkdirSync(dir, { recursive: true });
  return writeQwen25VLPair(dir, { ...TINY_SHAPES, VE: 256, vBlocks: 4, vHeads: 4, VF: 512 }, { name: 'slow-encode' });
}

/** A question whose grammar forces a 1500-character answer: the worker decodes for a while. */
export const LONG_ANSWER: EngineQuestion = {
  id: 'long',
  prompt: 'Describe everything.',
  schema: { type: 'object', properties: { text: { type: 'string', minLength: 1500, maxLength: 1500 } }, required: ['text'], additionalProperties: false },
  maxTokens: 4000,
};

/** Options for the fault tests: room for LONG_ANSWER and big frames, fast restarts. */
export function faultOptions(pair: ModelPair, over: Partial<LocalEngineOptions> = {}): LocalEngineOptions {
  const base = engineOptions(pair.model, pair.mmproj, { gpu: 'cpu', contextSize: 8192, maxAnswerTokens: 4000, timeout: 600 });
  return { ...base, maxPixels: 1008 * 1008, maxQuestions: 2, restart: { initialMs: 100, factor: 2, maxMs: 800, resetAfterMs: 60_000 }, ...over };
}

export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000, everyMs = 5): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Whether the process runs (a zombie waiting for its reaper, e.g. an orphan, counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
