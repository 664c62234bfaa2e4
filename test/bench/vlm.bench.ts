// VLM layer costs per frame: parsing a 16-box answer (vs JSON.parse of the same clean JSON, measured in
// the same run) and preparing a 1080p frame for the model grid (vs a plain sharp decode + encode).
import sharp from 'sharp';
import { parseAnswer } from '../../pipelines/vlm/parse.ts';
import { prepareImage } from '../../pipelines/vlm/image.ts';

function timeIt(label: string, n: number, fn: () => unknown): number {
  for (let i = 0; i < Math.min(50, n); i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  const us = ((performance.now() - t0) / n) * 1000;
  console.log(`${label.padEnd(44)} ${us.toFixed(1).padStart(9)} µs`);
  return us;
}

async function timeAsync(label: string, n: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  const ms = (performance.now() - t0) / n;
  console.log(`${label.padEnd(44)} ${ms.toFixed(2).padStart(9)} ms`);
  return ms;
}

export async function run(): Promise<void> {
  const boxes = Array.from({ length: 16 }, (_, i) => ({ bbox_2d: [10 * i, 20 + i, 100 + 10 * i, 200 + i], label: `person ${i}`, helmet: i % 2 === 0 }));
  const clean = JSON.stringify(boxes);
  const fenced = `Here are the people:\n\`\`\`json\n${JSON.stringify(boxes, null, 2).replace(/true/g, 'True').replace(/false/g, 'False')}\n\`\`\``;
  const cut = clean.slice(0, Math.floor(clean.length * 0.8));
  const ctx = { family: 'qwen2.5-vl' as const, sent: { width: 1316, height: 728 }, source: { width: 1920, height: 1080 } };
  const base = timeIt('baseline: JSON.parse (16 boxes)', 20000, () => JSON.parse(clean));
  const p1 = timeIt('parseAnswer clean (16 boxes)', 20000, () => parseAnswer(clean, ctx));
  const p2 = timeIt('parseAnswer fenced + Python literals', 20000, () => parseAnswer(fenced, ctx));
  const p3 = timeIt('parseAnswer truncated at 80%', 20000, () => parseAnswer(cut, ctx));
  console.log(`ratios vs JSON.parse: clean ${(p1 / base).toFixed(1)}x, fenced ${(p2 / base).toFixed(1)}x, truncated ${(p3 / base).toFixed(1)}x`);

  const frame = await sharp({ create: { width: 1920, height: 1080, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg({ quality: 85 }).toBuffer();
  const grid = { gridFactor: 28, minPixels: 3136, maxPixels: 1003520 };
  const dec = await timeAsync('baseline: sharp decode + re-encode 1080p', 20, () => sharp(frame).jpeg({ quality: 90 }).toBuffer());
  const prep = await timeAsync('prepareImage 1080p -> 1316x728', 20, () => prepareImage(frame, grid));
  const onGrid = (await prepareImage(frame, grid)).image.jpeg;
  const pass = await timeAsync('prepareImage, frame already on the grid', 20, () => prepareImage(onGrid, grid));
  console.log(`ratios vs decode+encode: resize ${(prep / dec).toFixed(2)}x, pass-through ${(pass / dec).toFixed(3)}x`);
}
