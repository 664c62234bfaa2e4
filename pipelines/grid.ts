// smart_resize: the size on the model's grid that an image is sent at (Qwen2.5-VL / Qwen3-VL processors).
// A leaf module shared by every stage: ingest scales frames onto the grid the composition root hands it
// (from the engine's info), the vlm stage maps answers back; neither imports the other.
// Python's round() (half to even) is used on purpose so sizes match the reference processor
// (transformers / qwen-vl-utils) and its published figures; llama.cpp rounds halves up, but it
// receives images already on the grid, so it never resizes them again.

export interface GridOptions {
  factor: number;
  minPixels: number;
  maxPixels: number;
}

export const QWEN25_GRID: GridOptions = { factor: 28, minPixels: 3136, maxPixels: 12845056 };
export const MAX_ASPECT_RATIO = 200;

/** Round half to even, as Python 3's round(). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Returns [height, width] on the grid for an image of the given height and width. */
export function smartResize(height: number, width: number, opts: GridOptions): [number, number] {
  const { factor, minPixels, maxPixels } = opts;
  if (!(height > 0 && width > 0)) throw new RangeError(`image size must be positive, got ${width}x${height}`);
  if (Math.max(height, width) / Math.min(height, width) > MAX_ASPECT_RATIO) {
    throw new RangeError(`aspect ratio must be below ${MAX_ASPECT_RATIO}, got ${width}x${height}`);
  }
  let h = Math.max(factor, roundHalfEven(height / factor) * factor);
  let w = Math.max(factor, roundHalfEven(width / factor) * factor);
  if (h * w > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    h = Math.max(factor, Math.floor(height / beta / factor) * factor);
    w = Math.max(factor, Math.floor(width / beta / factor) * factor);
  } else if (h * w < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    h = Math.ceil((height * beta) / factor) * factor;
    w = Math.ceil((width * beta) / factor) * factor;
  }
  return [h, w];
}
