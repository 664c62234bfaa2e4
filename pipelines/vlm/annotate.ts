// Draws boxes, labels and keypoints over the source image (an SVG overlay composited by sharp).
// Coordinates are source pixels, as parseAnswer emits them.
import sharp from 'sharp';
import type { Box, Point } from './parse.ts';

const COLORS = ['#ff3b30', '#34c759', '#0a84ff', '#ff9f0a', '#bf5af2', '#64d2ff', '#ffd60a', '#ff375f'];

export interface AnnotateInput {
  boxes: Box[];
  points: Point[];
}

/** Returns a JPEG of `image` (auto-oriented) with the detections drawn on it. */
export async function annotate(image: Buffer, found: AnnotateInput, quality = 88): Promise<Buffer> {
  const base = sharp(image).autoOrient();
  const { data, info } = await base.raw().toBuffer({ resolveWithObject: true });
  const svg = overlaySvg(info.width, info.height, found);
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .jpeg({ quality })
    .toBuffer();
}

export function overlaySvg(width: number, height: number, { boxes, points }: AnnotateInput): string {
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 300));
  const font = Math.max(12, Math.round(Math.min(width, height) / 40));
  const colorOf = colorsByLabel([...boxes, ...points].map((d) => d.label));
  const parts: string[] = [];
  for (const b of boxes) {
    const c = colorOf(b.label);
    const text = [b.label, ...Object.entries(b.attributes).map(([k, v]) => `${k}=${String(v)}`)].filter(Boolean).join(' ');
    parts.push(
      `<rect x="${r(b.x1)}" y="${r(b.y1)}" width="${r(b.x2 - b.x1)}" height="${r(b.y2 - b.y1)}" fill="none" stroke="${c}" stroke-width="${stroke}"/>`,
    );
    if (text) parts.push(tag(text, b.x1, b.y1 > font + 4 ? b.y1 - font - 4 : b.y1, font, c));
  }
  for (const p of points) {
    const c = colorOf(p.label);
    parts.push(`<circle cx="${r(p.x)}" cy="${r(p.y)}" r="${stroke * 2.5}" fill="${c}" stroke="#fff" stroke-width="${stroke / 2}"/>`);
    if (p.label) parts.push(tag(p.label, p.x + stroke * 3, p.y - font / 2, font, c));
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

function tag(text: string, x: number, y: number, font: number, color: string): string {
  const w = Math.round(text.length * font * 0.62 + 8);
  return (
    `<rect x="${r(x)}" y="${r(y)}" width="${w}" height="${font + 4}" fill="${color}"/>` +
    `<text x="${r(x + 4)}" y="${r(y + font)}" font-family="DejaVu Sans" font-size="${font}" fill="#fff">${escapeXml(text)}</text>`
  );
}

function colorsByLabel(labels: string[]): (label: string) => string {
  const order = [...new Set(labels)];
  return (label) => COLORS[order.indexOf(label) % COLORS.length]!;
}

const r = (v: number) => Math.round(v * 10) / 10;

/** Escapes markup and drops characters XML forbids (a random or broken model can write any of them). */
export function escapeXml(s: string): string {
  return s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '').replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}
