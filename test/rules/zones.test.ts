// Zones: anchors of boxes and the even-odd point-in-polygon test, edges included, in source pixels.
import { describe, it, expect } from 'vitest';
import { anchorOf, inZones } from '../../pipelines/rules/zones.ts';
import type { Polygon } from '../../config/rule.ts';

const box = { label: 'person', x1: 100, y1: 50, x2: 200, y2: 250, attributes: {} };
const hd = { width: 1920, height: 1080 };
const square: Polygon = [
  [0.25, 0.25],
  [0.75, 0.25],
  [0.75, 0.75],
  [0.25, 0.75],
];

describe('anchorOf', () => {
  it('takes the bottom centre, centre or top centre of a box', () => {
    expect(anchorOf(box, 'bottom')).toEqual({ x: 150, y: 250 });
    expect(anchorOf(box, 'center')).toEqual({ x: 150, y: 150 });
    expect(anchorOf(box, 'top')).toEqual({ x: 150, y: 50 });
  });
});

describe('inZones', () => {
  it('scales 0..1 polygons to the source size', () => {
    expect(inZones({ x: 960, y: 540 }, [square], hd)).toBe(true);
    expect(inZones({ x: 400, y: 540 }, [square], hd)).toBe(false); // 0.208 of the width: left of the zone
    expect(inZones({ x: 500, y: 540 }, [square], hd)).toBe(true); // 0.26: inside
    expect(inZones({ x: 960, y: 900 }, [square], hd)).toBe(false); // below
  });

  it('counts a point on an edge or a corner as inside', () => {
    expect(inZones({ x: 480, y: 540 }, [square], hd)).toBe(true); // left edge
    expect(inZones({ x: 1440, y: 540 }, [square], hd)).toBe(true); // right edge
    expect(inZones({ x: 960, y: 810 }, [square], hd)).toBe(true); // bottom edge
    expect(inZones({ x: 480, y: 270 }, [square], hd)).toBe(true); // corner
    expect(inZones({ x: 479.9, y: 540 }, [square], hd)).toBe(false);
    const triangle: Polygon = [
      [0, 0],
      [1, 0],
      [0, 1],
    ];
    expect(inZones({ x: 50, y: 50 }, [triangle], { width: 100, height: 100 })).toBe(true); // on the diagonal
    expect(inZones({ x: 50.1, y: 50.1 }, [triangle], { width: 100, height: 100 })).toBe(false);
  });

  it('uses the even-odd rule: the hole of a self-overlapping outline is outside', () => {
    // A five-pointed star drawn in one stroke: its centre pentagon is crossed twice, so even-odd calls it outside.
    const star: Polygon = [0, 2, 4, 1, 3].map((k) => {
      const a = -Math.PI / 2 + (k * 2 * Math.PI) / 5;
      return [0.5 + 0.4 * Math.cos(a), 0.5 + 0.4 * Math.sin(a)] as [number, number];
    });
    const s = { width: 1000, height: 1000 };
    expect(inZones({ x: 500, y: 500 }, [star], s)).toBe(false);
    expect(inZones({ x: 500, y: 140 }, [star], s)).toBe(true); // in the top point
  });

  it('is inside when inside any polygon of the camera; no polygons means the whole frame', () => {
    const right: Polygon = [
      [0.9, 0],
      [1, 0],
      [1, 1],
      [0.9, 1],
    ];
    expect(inZones({ x: 1900, y: 100 }, [square, right], hd)).toBe(true);
    expect(inZones({ x: 100, y: 100 }, [square, right], hd)).toBe(false);
    expect(inZones({ x: 100, y: 100 }, [], hd)).toBe(true);
  });

  it('handles concave polygons (an L-shaped driveway)', () => {
    const l: Polygon = [
      [0, 0],
      [0.5, 0],
      [0.5, 0.5],
      [1, 0.5],
      [1, 1],
      [0, 1],
    ];
    const s = { width: 100, height: 100 };
    expect(inZones({ x: 75, y: 25 }, [l], s)).toBe(false); // the notch
    expect(inZones({ x: 25, y: 25 }, [l], s)).toBe(true);
    expect(inZones({ x: 75, y: 75 }, [l], s)).toBe(true);
  });
});
