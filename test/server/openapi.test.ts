// GET /api/openapi.json: a valid OpenAPI 3.0 document listing every /api route of the server's route table
// with its schemas, each schema in OpenAPI 3.0's dialect (no draft-07 tuples, `const`, type arrays).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { startTestServer, type TestServer } from '../support/server.ts';

type Obj = Record<string, unknown>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'];

// The OpenAPI 3.0.3 Schema Object's keywords (section 4.7.24); anything else is not OpenAPI 3.0.
const SCHEMA_KEYS = new Set([
  'title', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern',
  'maxItems', 'minItems', 'uniqueItems', 'maxProperties', 'minProperties', 'required', 'enum', 'type', 'allOf', 'oneOf',
  'anyOf', 'not', 'items', 'properties', 'additionalProperties', 'description', 'format', 'default', 'nullable',
  'discriminator', 'readOnly', 'writeOnly', 'xml', 'externalDocs', 'example', 'deprecated', '$ref',
]);
const SUBSCHEMA_LISTS = ['allOf', 'oneOf', 'anyOf'];

/** Problems of one Schema Object against OpenAPI 3.0 (recursing into its subschemas). */
function schemaProblems(s: unknown, at: string, out: string[]): string[] {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return (out.push(`${at}: not an object`), out);
  const o = s as Obj;
  for (const k of Object.keys(o)) if (!SCHEMA_KEYS.has(k) && !k.startsWith('x-')) out.push(`${at}: keyword "${k}" is not OpenAPI 3.0`);
  if ('type' in o && typeof o.type !== 'string') out.push(`${at}: type must be a single string`);
  for (const k of ['exclusiveMinimum', 'exclusiveMaximum']) if (k in o && typeof o[k] !== 'boolean') out.push(`${at}: ${k} must be a boolean`);
  if ('items' in o) schemaProblems(o.items, `${at}.items`, out);
  if (typeof o.additionalProperties === 'object') schemaProblems(o.additionalProperties, `${at}.additionalProperties`, out);
  for (const [k, v] of Object.entries((o.properties ?? {}) as Obj)) schemaProblems(v, `${at}.properties.${k}`, out);
  for (const k of SUBSCHEMA_LISTS) if (Array.isArray(o[k])) (o[k] as unknown[]).forEach((v, i) => schemaProblems(v, `${at}.${k}[${i}]`, out));
  if ('not' in o) schemaProblems(o.not, `${at}.not`, out);
  return out;
}

// The document's frame: OpenAPI 3.0 fields every document and operation must have.
const documentShape = {
  type: 'object',
  required: ['openapi', 'info', 'paths'],
  properties: {
    openapi: { type: 'string', pattern: '^3\\.0\\.\\d+$' },
    info: { type: 'object', required: ['title', 'version'], properties: { title: { type: 'string' }, version: { type: 'string' } } },
    paths: {
      type: 'object',
      propertyNames: { pattern: '^/' },
      additionalProperties: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          required: ['responses'],
          properties: {
            parameters: {
              type: 'array',
              items: { type: 'object', required: ['name', 'in', 'schema'], properties: { in: { enum: ['path', 'query', 'header', 'cookie'] }, name: { type: 'string' } } },
            },
            requestBody: { type: 'object', required: ['content'] },
            responses: { type: 'object', minProperties: 1, additionalProperties: { type: 'object', required: ['description'] } },
          },
        },
      },
    },
  },
};

describe('GET /api/openapi.json', () => {
  let s: TestServer;
  let doc: Obj & { paths: Record<string, Record<string, Obj>> };
  beforeAll(async () => {
    s = await startTestServer({ cameras: [{ id: 'front', source: 'testsrc' }] });
    const r = await fetch(new URL('/api/openapi.json', s.url));
    expect(r.status).toBe(200);
    doc = (await r.json()) as typeof doc;
  });
  afterAll(() => s?.dispose());

  it('is an OpenAPI 3.0 document', () => {
    const validate = new Ajv({ allErrors: true }).compile(documentShape);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
  });

  it('lists every /api route of the server with its path parameters', () => {
    const api = s.routes.filter((r) => r.url.startsWith('/api/') && r.method !== 'HEAD');
    expect(api.length).toBeGreaterThanOrEqual(15);
    for (const route of api) {
      const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const op = doc.paths[path]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${route.url}`).toBeDefined();
      const declared = ((op!.parameters ?? []) as Obj[]).filter((p) => p.in === 'path').map((p) => [p.name, p.required]);
      const inTemplate = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => [m[1], true]);
      expect(declared, `${route.method} ${route.url}`).toEqual(inTemplate);
    }
    // Video files, the dashboard and /metrics are not part of the JSON API.
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith('/api/'))).toEqual([]);
  });

  it('describes the rules and events routes with their bodies and answers', () => {
    const rules = doc.paths['/api/rules']!;
    const created = rules.post!.requestBody as { content: Record<string, { schema: Obj }> };
    const ruleSchema = created.content['application/json']!.schema as { properties: Obj; required: string[] };
    expect(ruleSchema.required).toEqual(expect.arrayContaining(['id', 'kind', 'question']));
    expect(ruleSchema.properties.kind).toMatchObject({ enum: ['detect', 'point', 'count', 'yesno', 'describe'] });
    expect(Object.keys(rules.post!.responses as Obj)).toEqual(expect.arrayContaining(['201', '400', '409']));
    const page = (doc.paths['/api/events']!.get!.responses as Record<string, { content: Record<string, { schema: { properties: Obj } }> }>)['200']!;
    expect(Object.keys(page.content['application/json']!.schema.properties)).toEqual(['events', 'next']);
    const query = (doc.paths['/api/events']!.get!.parameters as Obj[]).filter((p) => p.in === 'query').map((p) => p.name);
    expect(query).toEqual(['camera', 'rule', 'severity', 'state', 'after', 'before', 'reviewed', 'verdict', 'limit', 'cursor']);
  });

  it('writes every schema in the OpenAPI 3.0 dialect', () => {
    const problems: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (!METHODS.includes(method)) continue;
        const at = `${method.toUpperCase()} ${path}`;
        for (const p of (op.parameters ?? []) as Obj[]) schemaProblems(p.schema, `${at} param ${String(p.name)}`, problems);
        for (const [type, media] of Object.entries(((op.requestBody as Obj | undefined)?.content ?? {}) as Record<string, Obj>)) schemaProblems(media.schema, `${at} body ${type}`, problems);
        for (const [code, res] of Object.entries(op.responses as Record<string, Obj>)) {
          for (const media of Object.values((res.content ?? {}) as Record<string, Obj>)) schemaProblems(media.schema, `${at} ${code}`, problems);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
