// The overlay's pure geometry and timeline mapping (the browser test proves them end to end).
import { describe, expect, it } from 'vitest';
import { containRect, pdtAt, type FragTime } from '../../client/src/overlay.ts';

describe('containRect (object-fit: contain)', () => {
  it('pillarboxes a 16:9 picture in a taller-than-wide box', () => {
    expect(containRect(1000, 1000, 1280, 720)).toEqual({ x: 0, y: 218.75, w: 1000, h: 562.5 });
  });
  it('letterboxes sideways when the box is wider than the picture', () => {
    const r = containRect(1600, 600, 1280, 720);
    expect(r.h).toBe(600);
    expect(r.w).toBeCloseTo(1066.667, 2);
    expect(r.x).toBeCloseTo(266.667, 2);
    expect(r.y).toBe(0);
  });
  it('covers the box before the video size is known', () => {
    expect(containRect(640, 360, 0, 0)).toEqual({ x: 0, y: 0, w: 640, h: 360 });
  });
});

describe('pdtAt', () => {
  const frags: FragTime[] = [
    { sn: 5, start: 10, duration: 1, pdt: 1_000_000 },
    { sn: 6, start: 11, duration: 1, pdt: 1_001_000 },
    { sn: 7, start: 12, duration: 1.0333, pdt: 1_002_050 },
  ];
  it('adds the offset into the containing fragment to its PDT', () => {
    expect(pdtAt(frags, 10.5)).toBeCloseTo(1_000_500, 6);
    expect(pdtAt(frags, 12.2)).toBeCloseTo(1_002_250, 6);
  });
  it('anchors a frame at a boundary to the later fragment (its own PDT is exact)', () => {
    expect(pdtAt(frags, 12)).toBe(1_002_050);
  });
  it('returns null outside the known fragments', () => {
    expect(pdtAt(frags, 9)).toBeNull();
    expect(pdtAt(frags, 14)).toBeNull();
  });
});
