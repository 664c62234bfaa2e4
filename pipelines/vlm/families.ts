// What each model family's answers look like: the keys it writes boxes and points under and their axis
// order. Its grid factor and coordinate frame are engine facts (pipelines/engine/families.ts), merged in
// here so the vlm stage reads one table.
// Facts: /work/shared/design/vlm-formats.md (Gemini puts y first under `box_2d`).
import { FAMILY_FACTS, type FamilyFacts } from '../engine/families.ts';
import type { ModelFamily } from '../engine/types.ts';

export { FAMILY_NAMES, isModelFamily } from '../engine/families.ts';

export interface FamilyTraits extends FamilyFacts {
  /** Keys the family writes boxes and points under; its own keys carry its own axis order. */
  boxKey: 'bbox_2d' | 'box_2d';
  pointKey: 'point_2d' | 'point';
  /** Whether its boxes and points start with y. */
  yFirst: boolean;
}

type Format = Omit<FamilyTraits, keyof FamilyFacts>;

const FORMATS: Record<ModelFamily, Format> = {
  'qwen2.5-vl': { boxKey: 'bbox_2d', pointKey: 'point_2d', yFirst: false },
  'qwen3-vl': { boxKey: 'bbox_2d', pointKey: 'point_2d', yFirst: false },
  // Gemini's points, `{"point": [y, x]}` in 0..1000, follow its box order (inferred from its pointing docs).
  gemini: { boxKey: 'box_2d', pointKey: 'point', yFirst: true },
};

export const FAMILIES: Readonly<Record<ModelFamily, FamilyTraits>> = Object.freeze(
  Object.fromEntries(Object.entries(FORMATS).map(([f, fmt]) => [f, { ...FAMILY_FACTS[f as ModelFamily], ...fmt }])) as Record<ModelFamily, FamilyTraits>,
);
