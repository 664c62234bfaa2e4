// Grid resize: a source image in, the image the model receives out (EngineImage) plus both sizes,
// so that answers map back exactly. Resized once with sharp, stretched (not letterboxed) like the
// reference processor; an image already on the grid passes through untouched.
import sharp, { type Metadata } from 'sharp';
import type { EngineImage, EngineInfo } from '../engine/types.ts';
import { smartResize } from '../grid.ts';

export interface Size {
  width: number;
  height: number;
}

export interface PreparedImage {
  image: EngineImage;
  /** Size the model receives (on the grid). */
  sent: Size;
  /** Size of the original, after EXIF orientation. */
  source: Size;
}

export type GridInfo = Pick<EngineInfo, 'gridFactor' | 'minPixels' | 'maxPixels'>;

export function sentSize(source: Size, grid: GridInfo): Size {
  const [height, width] = smartResize(source.height, source.width, {
    factor: grid.gridFactor,
    minPixels: grid.minPixels,
    maxPixels: grid.maxPixels,
  });
  return { width, height };
}

/** Decodes, orients and resizes one image to the model grid. `input`: any format sharp reads. */
export async function prepareImage(input: Buffer, grid: GridInfo, quality = 90): Promise<PreparedImage> {
  const meta = await sharp(input).metadata();
  const source = orientedSize(meta);
  const sent = sentSize(source, grid);
  const untouched = meta.format === 'jpeg' && (meta.orientation ?? 1) === 1 && sameSize(source, sent);
  const jpeg = untouched
    ? input
    : await sharp(input).autoOrient().resize(sent.width, sent.height, { fit: 'fill' }).jpeg({ quality }).toBuffer();
  return { image: { jpeg, width: sent.width, height: sent.height }, sent, source };
}

/** Frames of one short clip: all must share a size, so one mapping serves every answer. */
export async function prepareFrames(inputs: Buffer[], grid: GridInfo): Promise<PreparedImage[]> {
  if (inputs.length === 0) throw new RangeError('a question needs at least one frame');
  const out = await Promise.all(inputs.map((b) => prepareImage(b, grid)));
  const first = out[0]!;
  for (const p of out) {
    if (!sameSize(p.source, first.source)) {
      throw new RangeError(`clip frames differ in size: ${fmt(first.source)} and ${fmt(p.source)}`);
    }
  }
  return out;
}

function orientedSize(meta: Metadata): Size {
  if (!meta.width || !meta.height) throw new RangeError('cannot read the image size');
  const swap = (meta.orientation ?? 1) >= 5;
  return swap ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height };
}

const sameSize = (a: Size, b: Size) => a.width === b.width && a.height === b.height;
export const fmt = (s: Size) => `${s.width}x${s.height}`;
