// Typed attributes a detect question asks about each object (`helmet:boolean`, `color:enum(red|blue)`),
// and named keypoints for point questions (`head:point`). Declared once, they give the prompt its wording,
// the schema its extra keys, and the parser its coercions.

export type AttributeType =
  | { kind: 'boolean' }
  | { kind: 'string' }
  | { kind: 'number' }
  | { kind: 'enum'; values: string[] }
  /** A named keypoint of each object (point questions). */
  | { kind: 'point' };

export interface AttributeSpec {
  name: string;
  type: AttributeType;
}

export const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
/** Keys the answer formats already use. */
export const RESERVED_KEYS = new Set(['label', 'bbox_2d', 'box_2d', 'point_2d', 'object', 'objects', 'count']);
export const STRING_ATTRIBUTE_MAX = 32;
const ENUM_VALUE = /^[\w .-]{1,32}$/;

/** Parses `name:type`; types: boolean | string | number | enum(a|b|c) | point. Throws RangeError with the reason. */
export function parseAttributeSpec(spec: string): AttributeSpec {
  const m = /^\s*([^:\s]+)\s*:\s*(.+?)\s*$/.exec(spec);
  if (!m) throw new RangeError(`attribute "${spec}": expected name:type, e.g. helmet:boolean`);
  const name = m[1]!;
  const typeText = m[2]!;
  if (!ATTRIBUTE_NAME.test(name)) throw new RangeError(`attribute "${spec}": name must be a letter then letters, digits or "_" (at most 32)`);
  if (RESERVED_KEYS.has(name)) throw new RangeError(`attribute "${spec}": "${name}" is a key the answer format already uses`);
  return { name, type: parseType(typeText, spec) };
}

function parseType(t: string, spec: string): AttributeType {
  if (t === 'boolean' || t === 'string' || t === 'number' || t === 'point') return { kind: t };
  const e = /^enum\((.*)\)$/.exec(t);
  if (e) {
    const values = e[1]!.split('|').map((v) => v.trim());
    if (values.length < 2 || values.some((v) => !ENUM_VALUE.test(v))) {
      throw new RangeError(`attribute "${spec}": enum needs at least two values of letters, digits, space, "_", "." or "-"`);
    }
    return { kind: 'enum', values: [...new Set(values)] };
  }
  throw new RangeError(`attribute "${spec}": unknown type "${t}" (use boolean, string, number, enum(a|b) or point)`);
}

/** JSON Schema of one attribute value, bounded. */
export function attributeSchema(t: AttributeType): Record<string, unknown> {
  switch (t.kind) {
    case 'boolean':
      return { type: 'boolean' };
    case 'string':
      return { type: 'string', maxLength: STRING_ATTRIBUTE_MAX };
    case 'number':
      return { type: 'number', minimum: -1e6, maximum: 1e6 };
    case 'enum':
      return { type: 'string', enum: t.values };
    case 'point':
      throw new RangeError('a point attribute has no value schema; it names a keypoint');
  }
}

/** How the prompt describes an attribute's value. */
export function attributeWording(a: AttributeSpec): string {
  switch (a.type.kind) {
    case 'boolean':
      return `"${a.name}" (true or false)`;
    case 'string':
      return `"${a.name}" (a short word)`;
    case 'number':
      return `"${a.name}" (a number)`;
    case 'enum':
      return `"${a.name}" (one of ${a.type.values.map((v) => `"${v}"`).join(', ')})`;
    case 'point':
      return `"${a.name}"`;
  }
}

/** Brings a model's value to the declared type where the intent is clear ("yes" -> true); else keeps it. */
export function coerceAttribute(t: AttributeType, v: unknown): unknown {
  if (t.kind === 'boolean' && typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (['true', 'yes', '1'].includes(s)) return true;
    if (['false', 'no', '0'].includes(s)) return false;
  }
  if (t.kind === 'number' && typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  if (t.kind === 'enum' && typeof v === 'string') {
    const hit = t.values.find((x) => x.toLowerCase() === v.trim().toLowerCase());
    if (hit) return hit;
  }
  return v;
}
