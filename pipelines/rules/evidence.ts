// An event's pictures from the frame that opened (or bettered) it: the frame JPEG as analysed, an annotated
// copy, and a thumbnail cropped around the boxes (16:9, like Frigate's review thumbnails). Coordinates are
// source pixels; the frame may be smaller than the source (scaled onto the model grid), so they are mapped
// onto the JPEG's own pixels before drawing or cropping.
import sharp from 'sharp';
import type { Frame } from '../ingest/types.ts';
import { annotate } from '../vlm/annotate.ts';
import type { Box, Point } from '../vlm/parse.ts';
import { sourceOf } from './evaluate.ts';
import type { EventEvidence } from './types.ts';

const THUMB_W = 320;
const THUMB_H = 180;

export async function buildEvidence(frame: Frame, found: { boxes: Box[]; points: Point[] }): Promise<EventEvidence> {
  const scaled = toFramePixels(frame, found);
  const [annotated, thumbnail] = await Promise.all([annotate(frame.jpeg, scaled), thumbnailOf(frame, scaled)]);
  return { pdt: frame.pdt, snapshot: frame.jpeg, annotated, thumbnail };
}

/** Source-pixel boxes and points -> pixels of the frame JPEG. */
export function toFramePixels(frame: Frame, found: { boxes: Box[]; points: Point[] }): { boxes: Box[]; points: Point[] } {
  const src = sourceOf(frame);
  const sx = frame.width / src.width;
  const sy = frame.height / src.height;
  return {
    boxes: found.boxes.map((b) => ({ ...b, x1: b.x1 * sx, y1: b.y1 * sy, x2: b.x2 * sx, y2: b.y2 * sy })),
    points: found.points.map((p) => ({ ...p, x: p.x * sx, y: p.y * sy })),
  };
}

/** A 16:9 crop around every box and point (with a margin), or the whole frame when there is none. */
async function thumbnailOf(frame: Frame, found: { boxes: Box[]; points: Point[] }): Promise<Buffer> {
  const region = cropRegion(frame.width, frame.height, found);
  return sharp(frame.jpeg)
    .extract(region)
    .resize(THUMB_W, THUMB_H, { fit: 'cover' })
    .jpeg({ quality: 80 })
    .toBuffer();
}

export function cropRegion(W: number, H: number, { boxes, points }: { boxes: Box[]; points: Point[] }): { left: number; top: number; width: number; height: number } {
  const xs = [...boxes.flatMap((b) => [b.x1, b.x2]), ...points.map((p) => p.x)];
  const ys = [...boxes.flatMap((b) => [b.y1, b.y2]), ...points.map((p) => p.y)];
  if (xs.length === 0) return { left: 0, top: 0, width: W, height: H };
  const [x1, x2, y1, y2] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  // Margin of a quarter of the region (at least 16 px), then widened to 16:9 around its centre.
  let w = Math.max(x2 - x1, 16) * 1.5;
  let h = Math.max(y2 - y1, 16) * 1.5;
  if (w / h < 16 / 9) w = (h * 16) / 9;
  else h = (w * 9) / 16;
  w = Math.min(W, Math.round(w));
  h = Math.min(H, Math.round(h));
  const left = clamp(Math.round((x1 + x2) / 2 - w / 2), 0, W - w);
  const top = clamp(Math.round((y1 + y2) / 2 - h / 2), 0, H - h);
  return { left, top, width: Math.max(1, w), height: Math.max(1, h) };
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
