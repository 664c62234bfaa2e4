// The grammar of a declared attribute, `name:type` (`helmet:boolean`, `color:enum(red|blue)`, `head:point`).
// It lives with the config because rules in the config file are validated with it; pipelines/vlm turns a
// parsed spec into prompt wording, answer schema and coercions.

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

