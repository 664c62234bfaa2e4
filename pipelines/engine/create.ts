// Picks the engine the config asks for. The local engine (native addon + worker) is imported only when
// chosen, so `vigil parse` and OpenAI-only setups never load it.
import type { VisionEngine } from './types.ts';
import type { EngineConfig } from '../../config/schema.ts';
import type { Logger } from '../log.ts';
import { EngineError } from './types.ts';
import type { GridOptions } from '../grid.ts';
import { FAMILY_FACTS } from './families.ts';
import type { PullOptions } from './models.ts';

export interface EngineOverrides {
  kind?: 'local' | 'openai';
  /** Local: text model GGUF path. OpenAI: model name sent with each request. */
  model?: string;
  /** Local: vision projector GGUF path. */
  mmproj?: string;
}

export interface EngineDeps {
  /** The engine's logger (a child of the composition root's); default silent. */
  log?: Logger;
  /** Local engine: progress of the default model's first download (LocalEngineOptions.onPullProgress). */
  onPullProgress?: PullOptions['onProgress'];
  /** Local engine: draw the download progress bar on stderr (default: when stderr is a TTY). */
  showPullProgress?: boolean;
}

/**
 * The grid sampled frames must sit on for the configured engine, known before the engine starts so ingest can
 * scale frames once, in ffmpeg. The local engine only runs Qwen2.5-VL projectors (others are refused at load);
 * a remote one says its family in the config.
 */
export function engineGrid(config: EngineConfig): GridOptions {
  const family = config.kind === 'openai' ? config.openai.family : 'qwen2.5-vl';
  return { factor: FAMILY_FACTS[family].gridFactor, minPixels: config.minPixels, maxPixels: config.maxPixels };
}

export async function createEngine(config: EngineConfig, overrides: EngineOverrides = {}, deps: EngineDeps = {}): Promise<VisionEngine> {
  const kind = overrides.kind ?? config.kind;
  const log = deps.log ? { log: deps.log } : {};
  if (kind === 'openai') {
    const { OpenAIEngine, openAIOptionsFromConfig } = await import('./openai.ts');
    return new OpenAIEngine(openAIOptionsFromConfig(config, { ...(overrides.model ? { model: overrides.model } : {}), ...log }));
  }
  if (kind !== 'local') throw new EngineError('NOT_STARTED', `unknown engine kind "${String(kind)}"`, 'use engine.kind local or openai');
  const local = {
    ...config.local,
    ...(overrides.model ? { model: overrides.model } : {}),
    ...(overrides.mmproj ? { mmproj: overrides.mmproj } : {}),
  };
  const { LocalEngine } = await import('./local.ts');
  const pull = {
    ...(deps.onPullProgress ? { onPullProgress: deps.onPullProgress } : {}),
    ...(deps.showPullProgress !== undefined ? { showPullProgress: deps.showPullProgress } : {}),
  };
  return new LocalEngine({ local, minPixels: config.minPixels, maxPixels: config.maxPixels, ...log, ...pull });
}
