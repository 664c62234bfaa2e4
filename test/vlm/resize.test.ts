import { describe, it, expect } from 'vitest';
import sharp from 'sharp';
import { smartResize, roundHalfEven, QWEN25_GRID } from '../../pipelines/grid.ts';
import { prepareImage, prepareFrames, sentSize } from '../../pipelines/vlm/image.ts';

// Figures from /work/shared/design/vlm-formats.md (qwen-vl-utils smart_resize, Qwen2.5-VL checkpoint defaults).
const CLASS_DEFAULT = { ...QWEN25_GRID, maxPixels: 28 * 28 * 1280 }; // 1003520, transformers class default

describe('smartResize', () => {
  it.each([
    [1080, 1920, 1092, 1932],
    [720, 1280, 728, 1288],
    [1024, 1024, 1036, 1036],
  ])('(%i,%i) -> (%i,%i) with checkpoint defaults', (h, w, eh, ew) => {
    expect(smartResize(h, w, QWEN25_GRID)).toEqual([eh, ew]);
  });

  it('(1080,1920) -> (728,1316) with max_pixels 1003520', () => {
    expect(CLASS_DEFAULT.maxPixels).toBe(1003520);
    expect(smartResize(1080, 1920, CLASS_DEFAULT)).toEqual([728, 1316]);
  });

  it('rounds halves to even like Python (854/28 = 30.5 -> 840, not llama.cpp 868)', () => {
    expect(roundHalfEven(30.5)).toBe(30);
    expect(roundHalfEven(31.5)).toBe(32);
    expect(roundHalfEven(-0.5)).toBe(-0);
    expect(smartResize(854, 854, QWEN25_GRID)).toEqual([840, 840]);
    expect(smartResize(882, 882, QWEN25_GRID)).toEqual([896, 896]); // 31.5 -> 32
  });

  it('scales tiny images up to min_pixels', () => {
    // h'=w'=28 gives 784 < 3136: beta = sqrt(3136/100) = 5.6 -> ceil(56/28)*28 = 56
    expect(smartResize(10, 10, QWEN25_GRID)).toEqual([56, 56]);
  });

  it('Qwen3-VL grid: every side a multiple of 32', () => {
    const [h, w] = smartResize(1080, 1920, { factor: 32, minPixels: 3136, maxPixels: 1003520 });
    expect(h % 32).toBe(0);
    expect(w % 32).toBe(0);
    expect(h * w).toBeLessThanOrEqual(1003520);
    expect([h, w]).toEqual([736, 1312]); // beta = 1.4375: floor(23.48)=23*32, floor(41.74)=41*32
  });

  it('rejects empty sizes and aspect ratios above 200', () => {
    expect(() => smartResize(0, 10, QWEN25_GRID)).toThrow(RangeError);
    expect(() => smartResize(10, 2100, QWEN25_GRID)).toThrow(/aspect ratio/);
  });
});

const grid = { gridFactor: 28, minPixels: 3136, maxPixels: 1003520 };
const jpeg = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 30 } } }).jpeg().toBuffer();

describe('prepareImage', () => {
  it('resizes once to the grid size and reports both sizes', async () => {
    const p = await prepareImage(await jpeg(1920, 1080), grid);
    expect(p.source).toEqual({ width: 1920, height: 1080 });
    expect(p.sent).toEqual({ width: 1316, height: 728 });
    const m = await sharp(p.image.jpeg).metadata();
    expect([m.format, m.width, m.height]).toEqual(['jpeg', 1316, 728]);
    expect([p.image.width, p.image.height]).toEqual([1316, 728]);
  });

  it('passes a JPEG already on the grid through untouched', async () => {
    const input = await jpeg(1316, 728);
    const p = await prepareImage(input, grid);
    expect(p.image.jpeg).toBe(input);
    expect(sentSize(p.source, grid)).toEqual(p.sent);
  });

  it('re-encodes other formats and honours EXIF orientation', async () => {
    const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#00f' } }).png().toBuffer();
    const p = await prepareImage(png, grid);
    expect((await sharp(p.image.jpeg).metadata()).format).toBe('jpeg');
    expect(p.sent).toEqual({ width: 308, height: 196 });
    const rotated = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#0f0' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const q = await prepareImage(rotated, grid);
    expect(q.source).toEqual({ width: 100, height: 200 });
    const m = await sharp(q.image.jpeg).metadata();
    expect([m.width, m.height]).toEqual([q.sent.width, q.sent.height]);
    expect(q.sent.height).toBeGreaterThan(q.sent.width);
  });

  it('prepares clip frames and refuses frames of different sizes', async () => {
    const frames = await prepareFrames([await jpeg(640, 480), await jpeg(640, 480)], grid);
    expect(frames.map((f) => f.sent)).toEqual([
      { width: 644, height: 476 },
      { width: 644, height: 476 },
    ]);
    await expect(prepareFrames([await jpeg(640, 480), await jpeg(320, 240)], grid)).rejects.toThrow(/differ in size/);
    await expect(prepareFrames([], grid)).rejects.toThrow(RangeError);
  });
});
