// What the engine knows about each model family: the grid its images must sit on and the frame its
// coordinates come back in. Facts: /work/shared/design/vlm-formats.md (Qwen2.5-VL answers in pixels of
// the image it received, Qwen3-VL and Gemini in 0..1000). The answer formats (keys, axis order) are the
// vlm stage's business (pipelines/vlm/families.ts builds on this table).
import type { CoordinateFrame, ModelFamily } from './types.ts';

export interface FamilyFacts {
  coordinateFrame: CoordinateFrame;
  /** Patch size x spatial merge of the vision encoder. */
  gridFactor: number;
}

export const FAMILY_FACTS: Readonly<Record<ModelFamily, FamilyFacts>> = Object.freeze({
  'qwen2.5-vl': { coordinateFrame: 'pixels', gridFactor: 28 },
  'qwen3-vl': { coordinateFrame: 'norm1000', gridFactor: 32 },
  // Gemini takes any size; 28 keeps a frame prepared for Qwen2.5-VL usable as is.
  gemini: { coordinateFrame: 'norm1000', gridFactor: 28 },
});

export const FAMILY_NAMES = Object.keys(FAMILY_FACTS) as ModelFamily[];

export function isModelFamily(s: string): s is ModelFamily {
  return Object.hasOwn(FAMILY_FACTS, s);
}

/**
 * The family a GGUF projector belongs to, from its `clip.projector_type`. Only projectors whose family the
 * local engine can drive are listed: a Qwen2-VL projector (`qwen2vl_merger`) fits the same text
 * architecture but answers in 0..1000 instead of pixels, so it must not pass for Qwen2.5-VL.
 */
export const PROJECTOR_FAMILIES: Readonly<Record<string, ModelFamily>> = Object.freeze({
  'qwen2.5vl_merger': 'qwen2.5-vl',
});

/** Known projector types the local engine refuses, with the model they come from (for the error). */
export const FOREIGN_PROJECTORS: Readonly<Record<string, string>> = Object.freeze({
  qwen2vl_merger: 'Qwen2-VL (boxes in 0..1000, not pixels)',
  qwen3vl_merger: 'Qwen3-VL',
});
