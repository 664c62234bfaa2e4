// Zones: which of the model's objects a rule counts. A zone is a polygon in 0..1 frame coordinates (so it
// survives a resolution change); an object counts when its anchor point lies inside one of the camera's zones.
// The anchor of a box defaults to its bottom centre, where a person or a car touches the ground: a tall box
// that only leans over a zone's edge does not count, one that stands in it does.
import type { Polygon } from '../../config/rule.ts';
import type { Box } from '../vlm/parse.ts';

export type Anchor = 'bottom' | 'center' | 'top';
export interface Pt {
  x: number;
  y: number;
}
export interface Size {
  width: number;
  height: number;
}

/** The point of a box that must lie in a zone, in source pixels. */
export function anchorOf(box: Box, anchor: Anchor): Pt {
  const x = (box.x1 + box.x2) / 2;
  if (anchor === 'top') return { x, y: Math.min(box.y1, box.y2) };
  if (anchor === 'center') return { x, y: (box.y1 + box.y2) / 2 };
  return { x, y: Math.max(box.y1, box.y2) };
}

/**
 * Whether a point in source pixels lies in any of the polygons (0..1 coordinates), by the even-odd rule. A point
 * on an edge or corner counts as inside: a person standing exactly on a zone's border is in it. No polygons means
 * no restriction (the whole frame).
 */
export function inZones(pt: Pt, polygons: ReadonlyArray<Polygon>, source: Size): boolean {
  if (polygons.length === 0) return true;
  // Work in pixels so "on the edge" has the same tolerance along x and y whatever the aspect ratio.
  const corners = (p: Polygon): Pt[] => p.map(([x, y]) => ({ x: x * source.width, y: y * source.height }));
  return polygons.some((p) => {
    const c = corners(p);
    return onBoundary(pt, c) || evenOdd(pt, c);
  });
}

/** Ray casting to the right: an odd number of edge crossings means inside (handles self-intersecting polygons). */
function evenOdd(pt: Pt, c: Pt[]): boolean {
  let inside = false;
  for (let i = 0, j = c.length - 1; i < c.length; j = i++) {
    const a = c[i]!;
    const b = c[j]!;
    // Half-open test on y so a vertex exactly at the ray's height is counted once, not twice.
    if (a.y > pt.y !== b.y > pt.y && pt.x < ((b.x - a.x) * (pt.y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
  }
  return inside;
}

/** Within a hundredth of a pixel of an edge: parse coordinates are fractional, exact equality would be luck. */
const EPS = 0.01;

function onBoundary(pt: Pt, c: Pt[]): boolean {
  for (let i = 0, j = c.length - 1; i < c.length; j = i++) {
    if (distanceToSegment(pt, c[j]!, c[i]!) <= EPS) return true;
  }
  return false;
}

function distanceToSegment(p: Pt, a: Pt, b: Pt): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2));
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}
