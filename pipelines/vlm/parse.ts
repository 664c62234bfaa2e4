// Raw model answer -> boxes and points in source pixels, plus count / yes-no / description.
// Consumes: the answer text, the model family (coordinate frame), the sent and source sizes.
// Emits: ParsedAnswer. Never throws on model text: what cannot be read is left out, and an answer with
// nothing readable gives empty lists. Box objects keep only when they closed (see lenient-json.ts).
import type { CoordinateFrame, ModelFamily } from '../engine/types.ts';
import { FAMILIES } from './families.ts';
import { readJsonValues, isComplete } from './lenient-json.ts';
import { boxToSource, checkSize, pointToSource, type Mapping } from './coords.ts';
import { coerceAttribute, type AttributeSpec } from './attributes.ts';
import type { QuestionKind } from './questions.ts';
import type { Size } from './image.ts';

export interface Box {
  label: string;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  attributes: Record<string, unknown>;
}

export interface Point {
  label: string;
  x: number;
  y: number;
  attributes?: Record<string, unknown>;
}

export interface ParsedAnswer {
  boxes: Box[];
  points: Point[];
  count?: number;
  answer?: 'yes' | 'no';
  reason?: string;
  description?: string;
}

export interface ParseContext {
  family: ModelFamily;
  /** Overrides the family's frame (an engine's EngineInfo.coordinateFrame). */
  frame?: CoordinateFrame;
  sent: Size;
  source: Size;
  /** Declared attributes, to coerce values to their types. */
  attributes?: AttributeSpec[];
  /** Label for objects that come without one. */
  defaultLabel?: string;
}

const BOX_KEYS = ['bbox_2d', 'box_2d', 'bbox', 'box'] as const;
const POINT_KEYS = ['point_2d', 'point'] as const;
const LABEL_KEYS = ['label', 'name', 'class'] as const;
const STRUCTURE_KEYS = new Set<string>([...BOX_KEYS, ...POINT_KEYS, ...LABEL_KEYS]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses an answer for one question kind; without a kind, boxes and points only. */
export function parseAnswer(raw: string, ctx: ParseContext, kind?: QuestionKind): ParsedAnswer {
  checkSize(ctx.sent, 'sent');
  checkSize(ctx.source, 'source');
  const m: Mapping = { frame: ctx.frame ?? FAMILIES[ctx.family].coordinateFrame, sent: ctx.sent, source: ctx.source };
  const values = readJsonValues(raw);
  const found = collect(values);
  const out: ParsedAnswer = {
    boxes: dedupe(found.boxes.map((o) => toBox(o, m, ctx)).filter((b): b is Box => b !== null)),
    points: dedupe(found.points.map((o) => toPoint(o, m, ctx)).filter((p): p is Point => p !== null)),
  };
  if (out.boxes.length === 0) out.boxes = plainLineBoxes(raw, m, ctx);
  out.points.push(...xmlPoints(raw, m));
  if (kind === 'count') out.count = countOf(found.scalars, values, raw, out.boxes.length);
  if (kind === 'yesno') Object.assign(out, yesNoOf(found.scalars, raw));
  if (kind === 'describe') out.description = descriptionOf(found.scalars, values, raw);
  return out;
}

interface Found {
  boxes: Obj[];
  points: Obj[];
  /** First value seen for each other key anywhere in the answer (count, answer, reason, description...). */
  scalars: Map<string, unknown>;
}

/** Walks lists and any wrapper objects ({"objects": [...]}, {"result": {...}}) down to box/point objects. */
function collect(values: unknown[]): Found {
  const found: Found = { boxes: [], points: [], scalars: new Map() };
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (!isObj(v)) return;
    const kind = BOX_KEYS.some((k) => Array.isArray(v[k])) ? 'boxes' : POINT_KEYS.some((k) => Array.isArray(v[k])) ? 'points' : null;
    if (kind) {
      if (isComplete(v)) found[kind].push(v);
      return;
    }
    for (const [k, x] of Object.entries(v)) {
      if (!found.scalars.has(k) && (typeof x !== 'object' || x === null)) found.scalars.set(k, x);
      visit(x);
    }
  };
  values.forEach(visit);
  return found;
}

function toBox(o: Obj, m: Mapping, ctx: ParseContext): Box | null {
  const key = BOX_KEYS.find((k) => Array.isArray(o[k]))!;
  // Gemini's key carries Gemini's order: [ymin, xmin, ymax, xmax].
  const r = boxToSource(o[key] as unknown[], key === 'box_2d', m);
  return r && { label: labelOf(o, ctx), ...r, attributes: attributesOf(o, ctx) };
}

function toPoint(o: Obj, m: Mapping, ctx: ParseContext): Point | null {
  const key = POINT_KEYS.find((k) => Array.isArray(o[k]))!;
  // `point` is Gemini's key ([y, x]) when the answer comes from Gemini; `point_2d` is always [x, y].
  const p = pointToSource(o[key] as unknown[], m, key === 'point' && FAMILIES[ctx.family].yFirst);
  if (!p) return null;
  const attributes = attributesOf(o, ctx);
  return { label: labelOf(o, ctx), ...p, ...(Object.keys(attributes).length ? { attributes } : {}) };
}

function labelOf(o: Obj, ctx: ParseContext): string {
  const v = LABEL_KEYS.map((k) => o[k]).find((x) => typeof x === 'string' || typeof x === 'number');
  return v === undefined ? (ctx.defaultLabel ?? '') : String(v);
}

function attributesOf(o: Obj, ctx: ParseContext): Record<string, unknown> {
  const attrs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (STRUCTURE_KEYS.has(k)) continue;
    const spec = ctx.attributes?.find((a) => a.name === k);
    attrs[k] = spec ? coerceAttribute(spec.type, v) : v;
  }
  return attrs;
}

/** Drops exact repeats: a model stuck in a loop writes the same object again and again. */
function dedupe<T>(xs: T[]): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const k = JSON.stringify(x);
    return seen.has(k) ? false : (seen.add(k), true);
  });
}

/** `x1,y1,x2,y2 label` lines (Qwen2.5-VL's plain-text form when asked for it). */
function plainLineBoxes(raw: string, m: Mapping, ctx: ParseContext): Box[] {
  const n = String.raw`(-?\d+(?:\.\d+)?)`;
  const re = new RegExp(String.raw`^\s*\(?${n}\s*,\s*${n}\s*,\s*${n}\s*,\s*${n}\)?[ \t]+([^\n\d][^\n]*?)\s*$`, 'gm');
  const boxes: Box[] = [];
  for (const g of raw.matchAll(re)) {
    const r = boxToSource([g[1], g[2], g[3], g[4]].map(Number), false, m);
    if (r) boxes.push({ label: g[5]! || (ctx.defaultLabel ?? ''), ...r, attributes: {} });
  }
  return dedupe(boxes);
}

/** `<points x1="" y1="" x2="" y2="" alt="...">phrase</points>` and `<point x="" y="">` forms. */
function xmlPoints(raw: string, m: Mapping): Point[] {
  const points: Point[] = [];
  for (const g of raw.matchAll(/<points?\b([^>]*)>([\s\S]*?)<\/points?>/g)) {
    const attrs = Object.fromEntries([...g[1]!.matchAll(/([\w-]+)\s*=\s*["']([^"']*)["']/g)].map((a) => [a[1]!, a[2]!]));
    const label = g[2]!.trim() || attrs.alt || '';
    const pairs = attrs.x !== undefined ? [[attrs.x, attrs.y]] : [];
    for (let i = 1; attrs[`x${i}`] !== undefined; i++) pairs.push([attrs[`x${i}`], attrs[`y${i}`]]);
    for (const [x, y] of pairs) {
      const p = pointToSource([x, y].map((s) => (s === undefined || s.trim() === '' ? Number.NaN : Number(s))), m);
      if (p) points.push({ label, ...p });
    }
  }
  return points;
}

function countOf(scalars: Map<string, unknown>, values: unknown[], raw: string, boxes: number): number | undefined {
  const c = scalars.get('count') ?? values.find((v) => typeof v === 'number');
  if (typeof c === 'number' && Number.isInteger(c) && c >= 0) return c;
  if (typeof c === 'string' && /^\s*\d+\s*$/.test(c)) return Number(c);
  if (boxes > 0) return boxes;
  const n = /\b(\d+)\b/.exec(raw);
  return n ? Number(n[1]) : undefined;
}

function yesNoOf(scalars: Map<string, unknown>, raw: string): Pick<ParsedAnswer, 'answer' | 'reason'> {
  const a = scalars.get('answer');
  let answer: 'yes' | 'no' | undefined;
  if (typeof a === 'boolean') answer = a ? 'yes' : 'no';
  else if (typeof a === 'string' && /^\s*(yes|no)\b/i.test(a)) answer = /^\s*y/i.test(a) ? 'yes' : 'no';
  else if (scalars.size === 0) {
    const w = /^\W*(yes|no)\b/i.exec(raw);
    if (w) answer = w[1]!.toLowerCase() as 'yes' | 'no';
  }
  const reason = scalars.get('reason');
  return { ...(answer ? { answer } : {}), ...(typeof reason === 'string' ? { reason } : {}) };
}

function descriptionOf(scalars: Map<string, unknown>, values: unknown[], raw: string): string | undefined {
  const d = scalars.get('description');
  if (typeof d === 'string') return d;
  if (values.length === 0 && raw.trim()) return raw.trim();
  return undefined;
}
