// Question kinds -> EngineQuestion: a prompt in the phrasing the model family was trained on and a JSON
// Schema whose field names are the ones it emits (`bbox_2d`/`point_2d`/`label` for Qwen, `box_2d` for
// Gemini, attributes as extra keys). Every array and string in a schema is bounded: a grammar without
// bounds lets a weak (or random-weight) model run to the token cap.
// Prompts: Qwen2.5-VL cookbook phrasings (vlm-formats.md); Gemini: its docs' "box_2d ... 0-1000" wording.
import type { EngineQuestion, ModelFamily } from '../engine/types.ts';
import { FAMILIES } from './families.ts';
import { attributeSchema, attributeWording, type AttributeSpec } from './attributes.ts';
import type { Size } from './image.ts';

export const QUESTION_KINDS = ['detect', 'point', 'count', 'yesno', 'describe'] as const;
export type QuestionKind = (typeof QUESTION_KINDS)[number];

export const LIMITS = Object.freeze({
  maxItems: 16,
  labelLength: 48,
  reasonLength: 160,
  descriptionLength: 600,
  maxCount: 9999,
  questionLength: 500,
  /** Ceiling on the token budget derived from a schema. */
  maxTokens: 4096,
});

export interface QuestionOptions {
  family: ModelFamily;
  attributes?: AttributeSpec[];
  /** Largest number of boxes or points in one answer. */
  maxItems?: number;
  /** Size of the image sent; bounds pixel coordinates in the schema. */
  sent?: Size;
  /** Number of frames of a clip (default 1); coordinates then refer to the last one. */
  frames?: number;
  id?: string;
}

export function isQuestionKind(s: string): s is QuestionKind {
  return (QUESTION_KINDS as readonly string[]).includes(s);
}

export function buildQuestion(kind: QuestionKind, text: string, opts: QuestionOptions): EngineQuestion {
  const target = text.trim().replace(/[.?!]+$/, '');
  if (!target) throw new RangeError('the question is empty');
  if (target.length > LIMITS.questionLength) throw new RangeError(`the question is longer than ${LIMITS.questionLength} characters`);
  const attrs = opts.attributes ?? [];
  const keypoints = attrs.filter((a) => a.type.kind === 'point');
  const valued = attrs.filter((a) => a.type.kind !== 'point');
  if (keypoints.length > 0 && kind !== 'point') throw new RangeError(`keypoints (name:point) only apply to point questions, not ${kind}`);
  if (valued.length > 0 && !['detect', 'point', 'count'].includes(kind)) throw new RangeError(`attributes do not apply to ${kind} questions`);
  const shape = new Shapes(opts, valued);
  const clip = clipPreamble(opts.frames ?? 1, kind);
  let prompt: string;
  let schema: Record<string, unknown>;
  switch (kind) {
    case 'detect':
      prompt = detectPrompt(target, opts.family, valued);
      schema = shape.boxList();
      break;
    case 'point':
      prompt = pointPrompt(target, opts.family, keypoints, valued);
      schema = shape.pointList(keypoints);
      break;
    case 'count':
      prompt = `Please first output bbox coordinates and names of every ${target} in this image in JSON format, and then answer how many ${target} are there in the image.`;
      schema = strictObject({ objects: shape.boxList(), count: { type: 'integer', minimum: 0, maximum: LIMITS.maxCount } });
      break;
    case 'yesno':
      prompt = `${sentence(text)} Answer in JSON format with "answer" ("yes" or "no") and a short "reason".`;
      schema = strictObject({ answer: { type: 'string', enum: ['yes', 'no'] }, reason: { type: 'string', maxLength: LIMITS.reasonLength } });
      break;
    case 'describe':
      prompt = `${sentence(text)} Answer in JSON format with a "description" of at most a few sentences.`;
      schema = strictObject({ description: { type: 'string', maxLength: LIMITS.descriptionLength } });
      break;
  }
  return { id: opts.id ?? kind, prompt: clip + prompt, schema, maxTokens: tokenBudget(schema) };
}

function detectPrompt(target: string, family: ModelFamily, attrs: AttributeSpec[]): string {
  const extra = attrs.length ? ` Each entry also has ${attrs.map(attributeWording).join(', ')}.` : '';
  if (FAMILIES[family].boxKey === 'box_2d') {
    return `Detect each ${target}. Output a JSON list where each entry contains the 2D bounding box in "box_2d" as [ymin, xmin, ymax, xmax] normalized to 0-1000 and a text label in "label".${extra}`;
  }
  return `Outline the position of each ${target} and output all the coordinates in JSON format.${extra}`;
}

function pointPrompt(target: string, family: ModelFamily, keypoints: AttributeSpec[], attrs: AttributeSpec[]): string {
  const extra =
    (FAMILIES[family].pointKey === 'point' ? ' Each entry has the point in "point" as [y, x] normalized to 0-1000 and a "label".' : '') +
    (attrs.length ? ` Each entry also has ${attrs.map(attributeWording).join(', ')}.` : '');
  if (keypoints.length === 0) return `Point to each ${target} and output all the coordinates in JSON format.${extra}`;
  const names = keypoints.map((k) => k.name.replace(/_/g, ' '));
  return (
    `Point to the ${list(names)} of each ${target} and output all the coordinates in JSON format, ` +
    `with "label" naming the part and "object" numbering the ${target} from 0.${extra}`
  );
}

function clipPreamble(frames: number, kind: QuestionKind): string {
  if (!Number.isInteger(frames) || frames < 1) throw new RangeError(`frames must be a positive integer, got ${frames}`);
  if (frames === 1) return '';
  const where = kind === 'yesno' || kind === 'describe' ? '' : ' Give coordinates in the last frame.';
  return `These ${frames} images are frames of a short video clip, in time order.${where} `;
}

/** Schemas of the answer shapes, with coordinates bounded by the frame they are given in. */
class Shapes {
  private readonly maxItems: number;
  private readonly coordMax: number;
  constructor(
    private readonly opts: QuestionOptions,
    private readonly attrs: AttributeSpec[],
  ) {
    this.maxItems = opts.maxItems ?? LIMITS.maxItems;
    if (!Number.isInteger(this.maxItems) || this.maxItems < 1 || this.maxItems > 256) throw new RangeError('maxItems must be 1..256');
    const pixels = FAMILIES[opts.family].coordinateFrame === 'pixels';
    this.coordMax = pixels ? (opts.sent ? Math.max(opts.sent.width, opts.sent.height) : 8192) : 1000;
  }

  boxList(): Record<string, unknown> {
    const key = FAMILIES[this.opts.family].boxKey;
    const item = strictObject({ [key]: this.coords(4), label: label(), ...this.attrProps() });
    return { type: 'array', items: item, maxItems: this.maxItems };
  }

  pointList(keypoints: AttributeSpec[]): Record<string, unknown> {
    const name = keypoints.length ? { type: 'string', enum: keypoints.map((k) => k.name) } : label();
    const object = keypoints.length ? { object: { type: 'integer', minimum: 0, maximum: this.maxItems - 1 } } : {};
    const key = FAMILIES[this.opts.family].pointKey;
    const item = strictObject({ [key]: this.coords(2), label: name, ...object, ...this.attrProps() });
    return { type: 'array', items: item, maxItems: this.maxItems * Math.max(1, keypoints.length) };
  }

  private coords(n: number): Record<string, unknown> {
    return { type: 'array', items: { type: 'integer', minimum: 0, maximum: this.coordMax }, minItems: n, maxItems: n };
  }

  private attrProps(): Record<string, unknown> {
    return Object.fromEntries(this.attrs.map((a) => [a.name, attributeSchema(a.type)]));
  }
}

const label = () => ({ type: 'string', maxLength: LIMITS.labelLength });

function strictObject(properties: Record<string, unknown>): Record<string, unknown> {
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
}

const sentence = (t: string) => (/[.?!]$/.test(t.trim()) ? t.trim() : `${t.trim()}?`);
const list = (xs: string[]) => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}`);

/**
 * Token budget of an answer: enough for the longest answer the schema allows even when every token is a
 * single byte and every string character an escape (byte-level vocabularies, random weights), plus
 * whitespace between tokens. The grammar ends the answer long before this on real models; the budget
 * only has to guarantee that a constrained answer is never cut (the engine still applies its own cap).
 */
export function tokenBudget(schema: Record<string, unknown>): number {
  return Math.min(LIMITS.maxTokens, Math.ceil(maxChars(schema) * 1.25) + 16);
}

export function maxChars(s: Record<string, unknown>): number {
  if (Array.isArray(s.enum)) return Math.max(...s.enum.map((v) => JSON.stringify(v).length));
  switch (s.type) {
    case 'boolean':
      return 5;
    case 'integer':
      return Math.max(String(s.minimum ?? -1e15).length, String(s.maximum ?? 1e15).length);
    case 'number':
      return 24;
    case 'string':
      // Worst case per character: a \uXXXX escape (6 bytes), more than any UTF-8 character (4).
      return 2 + 6 * Number(s.maxLength ?? 1e6);
    case 'array': {
      const item = maxChars(s.items as Record<string, unknown>);
      return 2 + Number(s.maxItems ?? 1e6) * (item + 2);
    }
    case 'object': {
      const props = Object.entries((s.properties ?? {}) as Record<string, Record<string, unknown>>);
      return 2 + props.reduce((n, [k, v]) => n + k.length + 5 + maxChars(v), 0);
    }
    default:
      return 1e6;
  }
}
