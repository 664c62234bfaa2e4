// Condition: turns one parsed model answer into "positive or not" for one rule on one camera, keeping the objects
// that made it so (inside the camera's zones, passing `where`). Pure: the loop stores and publishes the result;
// the alert state (rule-state.ts) decides what a run of positives means.
import type { Condition, Rule } from '../../config/rule.ts';
import type { Box, ParsedAnswer, Point } from '../vlm/parse.ts';
import { anchorOf, inZones, type Size } from './zones.ts';

export interface Judged {
  positive: boolean;
  /** The boxes that count (detect/count), in source pixels. */
  boxes: Box[];
  /** The points that count (point). */
  points: Point[];
  /** Matching objects, or the model's count for count rules; null for yesno/describe. */
  count: number | null;
  /** yesno: "yes"/"no" (null when the model gave none); describe: the description; null for object kinds. */
  answer: string | null;
}

type Judge = (rule: Rule, camera: string, parsed: ParsedAnswer, source: Size) => Judged;

const JUDGES: Record<Rule['kind'], Judge> = {
  detect: (rule, camera, parsed, source) => {
    const boxes = matchingBoxes(rule, camera, parsed.boxes, source);
    return { positive: boxes.length >= (rule.condition.min ?? 1), boxes, points: [], count: boxes.length, answer: null };
  },
  point: (rule, camera, parsed, source) => {
    const polygons = rule.zones?.[camera] ?? [];
    const points = parsed.points.filter((p) => inZones(p, polygons, source) && matchesWhere(p.attributes, rule.condition));
    return { positive: points.length >= (rule.condition.min ?? 1), boxes: [], points, count: points.length, answer: null };
  },
  count: (rule, camera, parsed, source) => {
    const filtered = rule.condition.where !== undefined || rule.zones?.[camera] !== undefined;
    const boxes = matchingBoxes(rule, camera, parsed.boxes, source);
    // The model's own number is only trusted when nothing filters: it cannot know our zones or `where`.
    const count = filtered ? boxes.length : (parsed.count ?? parsed.boxes.length);
    return { positive: compare(count, rule.condition.op ?? '>=', rule.condition.value ?? 1), boxes, points: [], count, answer: null };
  },
  yesno: (rule, _camera, parsed) => {
    // A missing answer is not a "no": positive stays false and answer null, so the loop records an error.
    const answer = parsed.answer ?? null;
    return { positive: answer !== null && answer === (rule.condition.answer ?? 'yes'), boxes: [], points: [], count: null, answer };
  },
  describe: (rule, _camera, parsed) => {
    const answer = parsed.description ?? null;
    return { positive: answer !== null && containsAny(answer, rule.condition.contains ?? []), boxes: [], points: [], count: null, answer };
  },
};

/** Judges one rule's parsed answer for one camera; `source` is the size the coordinates refer to. */
export function judge(rule: Rule, camera: string, parsed: ParsedAnswer, source: Size): Judged {
  return JUDGES[rule.kind](rule, camera, parsed, source);
}

function matchingBoxes(rule: Rule, camera: string, boxes: Box[], source: Size): Box[] {
  const polygons = rule.zones?.[camera] ?? [];
  return boxes.filter((b) => inZones(anchorOf(b, rule.anchor), polygons, source) && matchesWhere(b.attributes, rule.condition));
}

/** Every `where` attribute must equal the object's value; an object the model gave no value for does not match. */
function matchesWhere(attributes: Record<string, unknown> | undefined, c: Condition): boolean {
  if (!c.where) return true;
  return Object.entries(c.where).every(([name, want]) => attributes?.[name] === want);
}

function compare(count: number, op: NonNullable<Condition['op']>, value: number): boolean {
  switch (op) {
    case '>=':
      return count >= value;
    case '>':
      return count > value;
    case '<=':
      return count <= value;
    case '<':
      return count < value;
    case '==':
      return count === value;
    case '!=':
      return count !== value;
  }
}

/** Case-insensitive substring match: "fire" finds "Fire", "fires" and "a wildfire"; a phrase is matched as written. */
function containsAny(text: string, words: ReadonlyArray<string>): boolean {
  const t = text.toLocaleLowerCase();
  return words.some((w) => t.includes(w.toLocaleLowerCase()));
}
