// Mapping model coordinates back to source pixels. Exact because the image was resized once to the sent
// size and no backend resized it again: x * W_src / W_sent for pixel frames, x * W_src / 1000 for 0..1000
// frames (multiplying first keeps integer inputs exactly representable until the one rounding divide).
import type { CoordinateFrame } from '../engine/types.ts';
import type { Size } from './image.ts';

export interface Mapping {
  frame: CoordinateFrame;
  sent: Size;
  source: Size;
}

export interface Rect {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export function checkSize(s: Size, what: string): void {
  if (!(Number.isInteger(s.width) && Number.isInteger(s.height) && s.width > 0 && s.height > 0)) {
    throw new RangeError(`${what} size must be positive integers, got ${s.width}x${s.height}`);
  }
}

export function mapX(x: number, m: Mapping): number {
  return (x * m.source.width) / (m.frame === 'pixels' ? m.sent.width : 1000);
}

export function mapY(y: number, m: Mapping): number {
  return (y * m.source.height) / (m.frame === 'pixels' ? m.sent.height : 1000);
}

const clamp = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);

/**
 * A box as the model wrote it ([x1,y1,x2,y2], or [y1,x1,y2,x2] when `yFirst`) in source pixels: corners
 * ordered, clipped to the frame. Null when a value is not a finite number or nothing is left inside the frame.
 */
export function boxToSource(v: readonly unknown[], yFirst: boolean, m: Mapping): Rect | null {
  if (v.length !== 4 || !v.every((n) => typeof n === 'number' && Number.isFinite(n))) return null;
  const [a, b, c, d] = v as number[];
  const [x1, y1, x2, y2] = yFirst ? [b!, a!, d!, c!] : [a!, b!, c!, d!];
  const { width: W, height: H } = m.source;
  const r = {
    x1: clamp(mapX(Math.min(x1, x2), m), W),
    y1: clamp(mapY(Math.min(y1, y2), m), H),
    x2: clamp(mapX(Math.max(x1, x2), m), W),
    y2: clamp(mapY(Math.max(y1, y2), m), H),
  };
  return r.x2 > r.x1 && r.y2 > r.y1 ? r : null;
}

/** A point [x, y] (or [y, x] when `yFirst`) in source pixels, clipped to the frame; null when not two finite numbers. */
export function pointToSource(v: readonly unknown[], m: Mapping, yFirst = false): { x: number; y: number } | null {
  if (v.length !== 2 || !v.every((n) => typeof n === 'number' && Number.isFinite(n))) return null;
  const [x, y] = (yFirst ? [v[1], v[0]] : v) as [number, number];
  return { x: clamp(mapX(x, m), m.source.width), y: clamp(mapY(y, m), m.source.height) };
}
