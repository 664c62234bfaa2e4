// Reads the frame counter that synthetic cameras burn into every frame (layout: pipelines/ingest/barcode.ts).
//
// Layout recap: a black band across the top 10% of the picture, split into 25 equal columns; column 0 is always
// white (reference), columns 1..24 are the counter bits, most significant first, white = 1. The counter is the
// source frame number n (0, 1, 2, ... at the source frame rate).
//
//   readBarcode(rgb, width, height)                 raw pixels (RGB, RGBA or grey) -> counter | null
//   readBarcode(rgb, width, height, ch, region)     the same inside a sub-rectangle (e.g. the video's content box
//                                                   in a page screenshot, letterboxing excluded)
//   await readBarcodeFromImage(jpegOrPngOrPath)     decodes with sharp first
//   readClock(...) / await readClockFromImage(...)  the wall-clock band of the test RTSP feed (CLOCK_BARCODE_LAYOUT,
//                                                   under the counter band): Unix ms when the frame was made
// null means no barcode there (the reference column is not white).
import sharp from 'sharp';
import { BARCODE_LAYOUT, CLOCK_BARCODE_LAYOUT, type BarcodeLayout } from '../../pipelines/ingest/barcode.ts';

export { BARCODE_LAYOUT, CLOCK_BARCODE_LAYOUT };

export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Mean brightness of a small patch around the centre of column `cell`. */
function cellLevel(px: Uint8Array, stride: number, channels: number, r: Region, cell: number, layout: BarcodeLayout): number {
  const { cells, bandHeight, markFill } = layout;
  const colW = r.width / cells;
  const cx = r.x + (cell + 0.5) * colW;
  const cy = r.y + ((layout.bandTop ?? 0) + bandHeight / 2) * r.height;
  // Sample the inner 40% of the mark: far from edges that JPEG ringing and scaling blur.
  const hx = Math.max(0, Math.floor((colW * markFill * 0.4) / 2));
  const hy = Math.max(0, Math.floor((bandHeight * r.height * markFill * 0.4) / 2));
  let sum = 0;
  let n = 0;
  for (let y = Math.round(cy) - hy; y <= Math.round(cy) + hy; y++) {
    for (let x = Math.round(cx) - hx; x <= Math.round(cx) + hx; x++) {
      const i = y * stride + x * channels;
      sum += channels >= 3 ? (px[i]! + px[i + 1]! + px[i + 2]!) / 3 : px[i]!;
      n++;
    }
  }
  return sum / n;
}

/** Reads the counter from raw pixels (row-major, `channels` bytes per pixel). */
export function readBarcode(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels = 3,
  region: Region = { x: 0, y: 0, width, height },
  layout: BarcodeLayout = BARCODE_LAYOUT,
): number | null {
  const white = cellLevel(pixels, width * channels, channels, region, 0, layout);
  if (white < 128) return null;
  const threshold = white / 2;
  let value = 0;
  for (let b = 1; b <= layout.bits; b++) {
    value = value * 2 + (cellLevel(pixels, width * channels, channels, region, b, layout) > threshold ? 1 : 0);
  }
  return value;
}

/** Decodes an image (JPEG, PNG, ... as bytes or a path) and reads its counter. */
export async function readBarcodeFromImage(image: Buffer | string, region?: Region): Promise<number | null> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return readBarcode(data, info.width, info.height, info.channels, region);
}

/**
 * Reads the burned wall clock (Unix ms) from raw pixels. The band holds the time modulo 2^32 ms; it is unwrapped to
 * the value nearest `nowMs` (the reader's clock, default now), exact for frames made within ~24 days of it.
 */
export function readClock(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels = 3,
  region: Region = { x: 0, y: 0, width, height },
  nowMs = Date.now(),
): number | null {
  const low = readBarcode(pixels, width, height, channels, region, CLOCK_BARCODE_LAYOUT);
  return low === null ? null : unwrapClock(low, nowMs);
}

/** Decodes an image and reads its burned wall clock (Unix ms); see readClock. */
export async function readClockFromImage(image: Buffer | string, region?: Region, nowMs = Date.now()): Promise<number | null> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return readClock(data, info.width, info.height, info.channels, region, nowMs);
}

/** The Unix ms time nearest `nowMs` whose low CLOCK_BARCODE_LAYOUT.bits bits are `low`. */
export function unwrapClock(low: number, nowMs: number): number {
  const span = 2 ** CLOCK_BARCODE_LAYOUT.bits;
  const base = nowMs - (nowMs % span);
  const candidates = [base - span + low, base + low, base + span + low];
  return candidates.reduce((best, c) => (Math.abs(c - nowMs) < Math.abs(best - nowMs) ? c : best));
}
