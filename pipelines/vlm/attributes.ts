// Typed attributes a detect question asks about each object (`helmet:boolean`, `color:enum(red|blue)`),
// and named keypoints for point questions (`head:point`). Declared once, they give the prompt its wording,
// the schema its extra keys, and the parser its coercions.

import { STRING_ATTRIBUTE_MAX, type AttributeSpec, type AttributeType } from '../../config/attribute-spec.ts';
export { parseAttributeSpec, ATTRIBUTE_NAME, RESERVED_KEYS, STRING_ATTRIBUTE_MAX, type AttributeSpec, type AttributeType } from '../../config/attribute-spec.ts';

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
