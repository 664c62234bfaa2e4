// What each model family needs from the rest of Vigil: its grid factor and the frame its coordinates are in.
// Facts: /work/shared/design/vlm-formats.md (Qwen2.5-VL answers in pixels of the image it received,
// Qwen3-VL and Gemini in 0..1000; Gemini puts y first under `box_2d`).
import type { CoordinateFrame, ModelFamily } from '../engine/types.ts';

export interface FamilyTraits {
  coordinateFrame: CoordinateFrame;
  /** Patch size x spatial merge of the vision encoder. */
  gridFactor: number;
  /** Keys the family writes boxes and points under; its own keys carry its own axis order. */
  boxKey: 'bbox_2d' | 'box_2d';
  pointKey: 'point_2d' | 'point';
  /** Whether its boxes and points start with y. */
  yFirst: boolean;
}

export const FAMILIES: Readonly<Record<ModelFamily, FamilyTraits>> = Object.freeze({
  'qwen2.5-vl': { coordinateFrame: 'pixels', gridFactor: 28, boxKey: 'bbox_2d', pointKey: 'point_2d', yFirst: false },
  'qwen3-vl': { coordinateFrame: 'norm1000', gridFactor: 32, boxKey: 'bbox_2d', pointKey: 'point_2d', yFirst: false },
  // Gemini takes any size; 28 keeps a frame prepared for Qwen2.5-VL usable as is. Its points,
  // `{"point": [y, x]}` in 0..1000, follow its box order (inferred from Gemini's pointing docs).
  gemini: { coordinateFrame: 'norm1000', gridFactor: 28, boxKey: 'box_2d', pointKey: 'point', yFirst: true },
});

export const FAMILY_NAMES = Object.keys(FAMILIES) as ModelFamily[];

export function isModelFamily(s: string): s is ModelFamily {
  return Object.hasOwn(FAMILIES, s);
}
