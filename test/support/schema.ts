// Checks an answer against the JSON Schema its question was asked with, using ajv (the full standard, not a
// hand-picked subset). Returns the violations, each with its path; [] means valid.
import { Ajv } from 'ajv';

const ajv = new Ajv({ strict: false, allErrors: true });

export function schemaViolations(value: unknown, schema: Record<string, unknown>): string[] {
  const validate = ajv.compile(schema);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `$${e.instancePath}: ${e.message ?? e.keyword}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
}
