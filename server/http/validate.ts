// Routes whose input zod validates. fastify's own ajv would quietly strip unknown keys, fill defaults
// and coerce types on a JSON body (its defaults), and cannot run the rule schema's cross-field checks;
// zod runs the one schema config/rule.ts defines and reports every failing path and reason.
// The same zod schemas become the route's JSON Schema, for the response serializer and OpenAPI.
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';
import type { z } from 'zod';
import { invalid, type Issue } from './errors.ts';
import { jsonSchema } from './schemas.ts';

export interface RouteSchemas {
  params?: z.ZodType;
  querystring?: z.ZodType;
  body?: z.ZodType;
  /** A body the handler validates itself (so its failures read like the handler's other checks): documented only. */
  bodyDoc?: z.ZodType;
  response?: Record<number, z.ZodType>;
  summary?: string;
  description?: string;
}

const PART_NAMES: Record<string, string> = { body: 'request body', querystring: 'query', params: 'path', headers: 'headers' };

/** `schema` and `validatorCompiler` options of a fastify route validated by zod. */
export function zodRoute(parts: RouteSchemas): { schema: FastifySchema; validatorCompiler: FastifySchemaCompiler<unknown> } {
  const schema: FastifySchema & Record<string, unknown> = {};
  if (parts.summary) schema.summary = parts.summary;
  if (parts.description) schema.description = parts.description;
  if (parts.params) schema.params = jsonSchema(parts.params);
  if (parts.querystring) schema.querystring = jsonSchema(parts.querystring, 'input');
  const body = parts.body ?? parts.bodyDoc;
  if (body) schema.body = jsonSchema(body, 'input');
  if (parts.response) schema.response = Object.fromEntries(Object.entries(parts.response).map(([code, s]) => [code, jsonSchema(s)]));
  const byPart: Record<string, z.ZodType | undefined> = { params: parts.params, querystring: parts.querystring, body: parts.body };
  return {
    schema,
    validatorCompiler: ({ httpPart }) => {
      const part = httpPart ?? 'body';
      const zs = byPart[part];
      return (data: unknown) => {
        if (!zs) return { value: data };
        // A POST without a body: the schema's own message ("id: required", ...) says what is missing.
        const r = zs.safeParse(part === 'body' && data === undefined ? {} : data);
        return r.success ? { value: r.data } : { error: invalid(`invalid ${PART_NAMES[part] ?? part}`, zodIssues(r.error)) };
      };
    },
  };
}

/** zod issues as `{path: "trigger.n", message}`; array indices as `[i]`: `zones.gate[0][1][0]`. */
export function zodIssues(err: z.ZodError): Issue[] {
  return err.issues.map((i) => ({ path: dotPath(i.path), message: i.message }));
}

export function dotPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : `${out ? '.' : ''}${String(k)}`;
  return out;
}
