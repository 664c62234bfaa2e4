// Shared setup for the engine tests: the tiny random-weight pair and engine options around it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeTinyQwen25VL, type ModelPair } from '../fixtures/gguf/index.ts';
import type { LocalEngineOptions } from '../../pipelines/engine/local.ts';
import type { EngineImage } from '../../pipelines/engine/types.ts';

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
