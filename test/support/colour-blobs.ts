// Finds the coloured shapes in a picture: every pixel is given a named colour by hue (or none when it is grey,
// dark or washed out), pixels of one colour that touch form a blob, and each blob's fill of its bounding box names
// its shape (a square fills it, a circle ~79%, a triangle ~50%). The vision judge (vision-judge.ts) answers from
// this, so its answers follow the picture, never a script.
//
//   findBlobs(rgb, width, height, channels?, opts?)  -> Blob[] (largest first)
//   await findBlobsInImage(jpegOrPng, opts?)         decodes with sharp first; also returns the size
//   COLOURS                                           the colour table (hue ranges, in degrees)
//   shapeOf(fill)                                     'square' | 'circle' | 'triangle' from a blob's fill ratio
import sharp from 'sharp';

export interface ColourRange {
  name: string;
  /** Hue range in degrees [from, to); `from > to` wraps through 0 (red). */
  hue: [number, number];
}

/** Named colours by hue; a pixel must also be saturated and bright enough (see BlobOptions). */
export const COLOURS: readonly ColourRange[] = Object.freeze([
  { name: 'red', hue: [340, 15] },
  { name: 'orange', hue: [15, 40] },
  { name: 'yellow', hue: [40, 70] },
  { name: 'green', hue: [70, 165] },
  { name: 'cyan', hue: [165, 195] },
  { name: 'blue', hue: [195, 260] },
  { name: 'purple', hue: [260, 290] },
  { name: 'magenta', hue: [290, 340] },
]);

export const COLOUR_NAMES = COLOURS.map((c) => c.name);

export type ShapeName = 'square' | 'circle' | 'triangle';

export interface Blob {
  colour: string;
  shape: ShapeName;
  /** Bounding box in pixels: x2/y2 are the edges past the last pixel (an 80 px square at 100 is [100, 180)). */
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** Pixels in the blob. */
  area: number;
  /** area / bounding-box area. */
  fill: number;
}

export interface BlobOptions {
  /** Least saturation (0..1) of a coloured pixel [0.45]. */
  minSaturation?: number;
  /** Least value (brightness, 0..1) of a coloured pixel [0.3]. */
  minValue?: number;
  /** Smallest blob kept, in pixels: JPEG ringing leaves specks of colour at edges [40]. */
  minArea?: number;
}

/** Colour index (1-based into COLOURS) of one pixel, 0 when it has no named colour. */
export function colourIndex(r: number, g: number, b: number, minSaturation = 0.45, minValue = 0.3): number {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const v = max / 255;
  const s = max === 0 ? 0 : (max - min) / max;
  if (v < minValue || s < minSaturation) return 0;
  const d = max - min;
  let h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  h *= 60;
  if (h < 0) h += 360;
  for (let i = 0; i < COLOURS.length; i++) {
    const [from, to] = COLOURS[i]!.hue;
    if (from < to ? h >= from && h < to : h >= from || h < to) return i + 1;
  }
  return 0;
}

/** Shape from how much of its bounding box a blob fills (square 1, circle pi/4, triangle 1/2). */
export function shapeOf(fill: number): ShapeName {
  if (fill >= 0.88) return 'square';
  if (fill >= 0.64) return 'circle';
  return 'triangle';
}

/** Blobs of named colours in raw pixels (row-major, `channels` bytes per pixel), largest first. */
export function findBlobs(pixels: Uint8Array, width: number, height: number, channels = 3, opts: BlobOptions = {}): Blob[] {
  const minS = opts.minSaturation ?? 0.45;
  const minV = opts.minValue ?? 0.3;
  const minArea = opts.minArea ?? 40;
  const labels = new Uint8Array(width * height);
  for (let p = 0; p < width * height; p++) {
    const i = p * channels;
    labels[p] = colourIndex(pixels[i]!, pixels[i + 1]!, pixels[i + 2]!, minS, minV);
  }
  const seen = new Uint8Array(width * height);
  const stack = new Int32Array(width * height);
  const blobs: Blob[] = [];
  for (let start = 0; start < labels.length; start++) {
    const colour = labels[start]!;
    if (colour === 0 || seen[start]) continue;
    // Flood fill (4-connected) over pixels of the same colour.
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    let area = 0;
    let x1 = width, y1 = height, x2 = -1, y2 = -1;
    while (top > 0) {
      const p = stack[--top]!;
      const x = p % width;
      const y = (p - x) / width;
      area++;
      if (x < x1) x1 = x;
      if (x > x2) x2 = x;
      if (y < y1) y1 = y;
      if (y > y2) y2 = y;
      const next = [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, y > 0 ? p - width : -1, y < height - 1 ? p + width : -1];
      for (const q of next) {
        if (q >= 0 && !seen[q] && labels[q] === colour) {
          seen[q] = 1;
          stack[top++] = q;
        }
      }
    }
    if (area < minArea) continue;
    const fill = area / ((x2 - x1 + 1) * (y2 - y1 + 1));
    blobs.push({ colour: COLOURS[colour - 1]!.name, shape: shapeOf(fill), x1, y1, x2: x2 + 1, y2: y2 + 1, area, fill });
  }
  return blobs.sort((a, b) => b.area - a.area);
}

/** Decodes an image (JPEG, PNG, ...) and finds its blobs. */
export async function findBlobsInImage(image: Buffer, opts?: BlobOptions): Promise<{ width: number; height: number; blobs: Blob[] }> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, blobs: findBlobs(data, info.width, info.height, info.channels, opts) };
}
