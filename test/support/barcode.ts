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
// null means no barcode there (the reference column is not white).
import sharp from 'sharp';
import { BARCODE_LAYOUT } from '../../pipelines/ingest/barcode.ts';

export { BARCODE_LAYOUT };

export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Mean brightness of a small patch around the centre of column `cell`. */
function cellLevel(px: Uint8Array, stride: number, channels: number, r: Region, cell: number): number {
  const { cells, bandHeight, markFill } = BARCODE_LAYOUT;
  const colW = r.width / cells;
  const cx = r.x + (cell + 0.5) * colW;
  const cy = r.y + (bandHeight * r.height) / 2;
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
): number | null {
  const white = cellLevel(pixels, width * channels, channels, region, 0);
  if (white < 128) return null;
  const threshold = white / 2;
  let value = 0;
  for (let b = 1; b <= BARCODE_LAYOUT.bits; b++) {
    value = value * 2 + (cellLevel(pixels, width * channels, channels, region, b) > threshold ? 1 : 0);
  }
  return value;
}

/** Decodes an image (JPEG, PNG, ... as bytes or a path) and reads its counter. */
export async function readBarcodeFromImage(image: Buffer | string, region?: Region): Promise<number | null> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return readBarcode(data, info.width, info.height, info.channels, region);
}
