// A small JSON Schema checker for the subset the engine tests use (type, enum, properties, required,
// additionalProperties: false, items, minItems/maxItems, maxLength, minimum/maximum). Returns the problems.
type Schema = Record<string, any>;

export function checkSchema(value: unknown, schema: Schema, path = '$'): string[] {
  const errs: string[] = [];
  if (schema.enum && !schema.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(value))) errs.push(`${path}: not one of ${JSON.stringify(schema.enum)}`);
  const type = schema.type as string | undefined;
  const isObj = typeof value === 'object' && value !== null && !Array.isArray(value);
  if (type === 'object') {
    if (!isObj) return [...errs, `${path}: expected object`];
    const obj = value as Record<string, unknown>;
    for (const k of schema.required ?? []) if (!(k in obj)) errs.push(`${path}.${k}: missing`);
    for (const [k, v] of Object.entries(obj)) {
      const sub = schema.properties?.[k];
      if (sub) errs.push(...checkSchema(v, sub, `${path}.${k}`));
      else if (schema.additionalProperties === false) errs.push(`${path}.${k}: not allowed`);
    }
  } else if (type === 'array') {
    if (!Array.isArray(value)) return [...errs, `${path}: expected array`];
    if (schema.minItems !== undefined && value.length < schema.minItems) errs.push(`${path}: fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errs.push(`${path}: more than ${schema.maxItems} items`);
    value.forEach((v, i) => schema.items && errs.push(...checkSchema(v, schema.items, `${path}[${i}]`)));
  } else if (type === 'string') {
    if (typeof value !== 'string') return [...errs, `${path}: expected string`];
    if (schema.maxLength !== undefined && value.length > schema.maxLength) errs.push(`${path}: longer than ${schema.maxLength}`);
  } else if (type === 'integer' || type === 'number') {
    if (typeof value !== 'number' || (type === 'integer' && !Number.isInteger(value))) return [...errs, `${path}: expected ${type}`];
    if (schema.minimum !== undefined && value < schema.minimum) errs.push(`${path}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errs.push(`${path}: above ${schema.maximum}`);
  } else if (type === 'boolean' && typeof value !== 'boolean') errs.push(`${path}: expected boolean`);
  return errs;
}
