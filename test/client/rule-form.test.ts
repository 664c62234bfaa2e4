// The rule editor's pure parts against the real server's schema and validation: every field the form offers has
// help text from GET /api/openapi.json, every 400 issue path the server sends lands on a field of the form.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIELDS, diffRules, issuesByField, set, toBody } from '../../client/src/rules/form-model.ts';
import { fieldDoc } from '../../client/src/rules/schema-docs.ts';
import type { JsonSchema, OpenApiDoc } from '../../client/src/rules/api.ts';
import type { ErrorBody } from '../../server/wire.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describe('rule form model', () => {
  let server: TestServer;
  let schema: JsonSchema;

  beforeAll(async () => {
    server = await startTestServer({ cameras: [{ id: 'cam', source: 'testsrc' }] });
    const doc = (await (await fetch(new URL('/api/openapi.json', server.url))).json()) as OpenApiDoc;
    schema = Object.values(doc.paths['/api/rules']!.post!.requestBody!.content)[0]!.schema;
  });
  afterAll(() => server?.dispose());

  it("finds the schema's description of every field the form offers, and its defaults", () => {
    const missing = FIELDS.filter((f) => !fieldDoc(schema, f).description);
    expect(missing).toEqual([]);
    expect(fieldDoc(schema, 'trigger.n')).toEqual({ description: 'Positives needed among the latest `of` evaluations to open an event.', default: 2 });
    expect(fieldDoc(schema, 'cooldown').default).toBe(60);
    expect(fieldDoc(schema, 'clip.frames').description).toBe('Frames sent together, the newest last.');
  });

  it("maps each of the server's 400 issue paths to a field of the form", async () => {
    const post = async (rule: unknown) => {
      const res = await fetch(new URL('/api/rules', server.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
      expect(res.status).toBe(400);
      return Object.fromEntries(((await res.json()) as ErrorBody).error.issues!.map((i) => [i.path, i.message]));
    };
    const base = { id: 'x', kind: 'detect', question: 'q' };
    const cases: [unknown, string][] = [
      [{ ...base, question: ' ' }, 'question'],
      [{ ...base, trigger: { n: 5, of: 3 } }, 'trigger.n'],
      [{ ...base, zones: { cam: [[[1.5, 0], [1, 1], [0, 1]]] } }, 'zones'],
      [{ ...base, cameras: ['nope'] }, 'cameras'],
      [{ ...base, condition: { where: { helmet: false } } }, 'condition.where'],
      [{ ...base, schedule: { windows: [{ start: '8', end: '18:00' }] } }, 'schedule'],
      [{ ...base, clip: { frames: 1, spacing: 1 } }, 'clip.frames'],
      [{ ...base, notify: { channels: ['pager'] } }, 'notify.channels'],
    ];
    for (const [rule, field] of cases) {
      const byField = issuesByField(await post(rule));
      expect(Object.keys(byField), JSON.stringify(rule)).toEqual([field]);
    }
    expect((await (await fetch(new URL('/api/rules', server.url))).json()) as unknown[]).toEqual([]);
  });

  it('edits by path, drops empty parts from the body, and diffs versions field by field', () => {
    let d = set({ id: 'a', kind: 'detect', question: 'q' }, 'trigger.n', 3);
    expect(d).toEqual({ id: 'a', kind: 'detect', question: 'q', trigger: { n: 3 } });
    d = set(d, 'trigger.n', undefined);
    expect(d).toEqual({ id: 'a', kind: 'detect', question: 'q' });
    expect(toBody({ ...d, name: '', attributes: [] })).toEqual({ id: 'a', kind: 'detect', question: 'q' });
    expect(diffRules({ a: 1, t: { n: 2, of: 3 }, z: [1] }, { a: 1, t: { n: 3, of: 3 }, z: [1, 2], y: 'new' })).toEqual([
      { path: 't.n', from: 2, to: 3 },
      { path: 'y', from: undefined, to: 'new' },
      { path: 'z', from: [1], to: [1, 2] },
    ]);
  });
});
