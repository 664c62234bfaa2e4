// /api/rules against a real server (scripted cameras) and its real SQLite store: create, read, new versions,
// delete, config rules read-only, and bad input refused with the path and the reason with nothing stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody, RuleInfo } from '../../server/wire.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

type Answer = { status: number; body: unknown };

describe('/api/rules', () => {
  let s: TestServer;
  const call = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const r = await fetch(new URL(path, s.url), {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return { status: r.status, body: await r.json() };
  };
  const list = async () => (await call('GET', '/api/rules')).body as RuleInfo[];
  const versionsOf = async (id: string) => (await call('GET', `/api/rules/${id}/versions`)).body as RuleInfo[];

  beforeAll(async () => {
    s = await startTestServer({
      cameras: [
        { id: 'front', source: 'testsrc' },
        { id: 'yard', source: 'testsrc', sampleInterval: 2 },
      ],
      rules: [{ id: 'from-file', kind: 'yesno', question: 'Is the gate open?', cameras: ['front'] }],
    });
  });
  afterAll(() => s?.dispose());

  it('lists the config file rules as read-only (source: config)', async () => {
    const rule = (await list()).find((r) => r.rule.id === 'from-file');
    expect(rule).toMatchObject({ version: 1, source: 'config', rule: { kind: 'yesno', question: 'Is the gate open?', cameras: ['front'], trigger: { n: 2, of: 3 } } });
  });

  it('creates a rule with the schema defaults, refuses the same id again, and lists it', async () => {
    const created = await call('POST', '/api/rules', { id: 'red-car', kind: 'detect', question: 'red cars', cameras: ['yard'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ version: 1, source: 'api', rule: { id: 'red-car', enabled: true, cooldown: 60, end: { negatives: 3 } } });
    const again = await call('POST', '/api/rules', { id: 'red-car', kind: 'count', question: 'cars' });
    expect(again.status).toBe(409);
    expect((again.body as ErrorBody).error.message).toMatch(/exists.*PUT \/api\/rules\/red-car/);
    expect((await call('GET', '/api/rules/red-car')).body).toMatchObject({ version: 1, rule: { kind: 'detect' } });
    expect((await list()).map((r) => r.rule.id)).toContain('red-car');
  });

  it('two creates of one id at once: one 201, one 409, one version stored', async () => {
    const body = { id: 'racing', kind: 'count', question: 'cars' };
    const answers = await Promise.all([call('POST', '/api/rules', body), call('POST', '/api/rules', { ...body, question: 'trucks' })]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
    expect(await versionsOf('racing')).toHaveLength(1);
  });

  it('PUT makes a new version, keeps the old ones, and an unchanged body makes none', async () => {
    await call('POST', '/api/rules', { id: 'helmets', kind: 'detect', question: 'people', attributes: ['helmet:boolean'] });
    const v2 = await call('PUT', '/api/rules/helmets', { kind: 'detect', question: 'people without helmets', attributes: ['helmet:boolean'], condition: { where: { helmet: false } } });
    expect(v2.status).toBe(200);
    expect(v2.body).toMatchObject({ version: 2, rule: { id: 'helmets', question: 'people without helmets' } });
    const same = await call('PUT', '/api/rules/helmets', { id: 'helmets', kind: 'detect', question: 'people without helmets', attributes: ['helmet:boolean'], condition: { where: { helmet: false } } });
    expect((same.body as RuleInfo).version).toBe(2);
    expect((await versionsOf('helmets')).map((v) => [v.version, v.rule.question])).toEqual([
      [1, 'people'],
      [2, 'people without helmets'],
    ]);
    const renamed = await call('PUT', '/api/rules/helmets', { id: 'other', kind: 'detect', question: 'x' });
    expect(renamed.status).toBe(400);
    expect((renamed.body as ErrorBody).error.issues).toEqual([expect.objectContaining({ path: 'id' })]);
  });

  it('refuses to change or delete a config rule, saying to edit the config file', async () => {
    const before = await list();
    for (const [method, body] of [
      ['PUT', { kind: 'yesno', question: 'Is the gate closed?' }],
      ['DELETE', undefined],
    ] as const) {
      const r = await call(method, '/api/rules/from-file', body);
      expect(r.status, method).toBe(409);
      expect((r.body as ErrorBody).error).toMatchObject({ code: 'RULE_PROVISIONED' });
      expect((r.body as ErrorBody).error.message).toMatch(/edit .* config file/);
    }
    const taken = await call('POST', '/api/rules', { id: 'from-file', kind: 'yesno', question: 'x?' });
    expect(taken.status).toBe(409);
    expect(await list()).toEqual(before);
  });

  it('deletes an API rule (404 afterwards) and answers 404 for unknown ids', async () => {
    await call('POST', '/api/rules', { id: 'short-lived', kind: 'describe', question: 'What happens?' });
    const del = await call('DELETE', '/api/rules/short-lived');
    expect(del).toEqual({ status: 200, body: { deleted: 'short-lived' } });
    expect((await call('GET', '/api/rules/short-lived')).status).toBe(404);
    expect((await call('DELETE', '/api/rules/short-lived')).status).toBe(404);
    expect((await call('PUT', '/api/rules/nope', { kind: 'yesno', question: 'x?' })).status).toBe(404);
    expect((await call('GET', '/api/rules/nope/versions')).status).toBe(404);
    expect((await call('GET', '/api/rules/bad%20id')).status).toBe(400);
  });

  const bad: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['unknown kind', { kind: 'classify', question: 'cars' }, 'kind', /detect.*point.*count.*yesno.*describe|expected one of/i],
    ['empty question', { kind: 'detect', question: '   ' }, 'question', /empty/],
    ['zone outside 0..1', { kind: 'detect', question: 'cars', cameras: ['front'], zones: { front: [[[0, 0], [1.5, 0], [0, 1]]] } }, 'zones.front[0][1][0]', /<=\s*1/],
    ['trigger n > of', { kind: 'detect', question: 'cars', trigger: { n: 5, of: 3 } }, 'trigger.n', /cannot exceed of/],
    ['unknown camera', { kind: 'detect', question: 'cars', cameras: ['front', 'garage'] }, 'cameras[1]', /unknown camera "garage"/],
    ['every below the sample interval', { kind: 'detect', question: 'cars', cameras: ['yard'], every: 1 }, 'every', /at least the sample interval.*2 s/],
    ['unknown key', { kind: 'detect', question: 'cars', colour: 'red' }, '', /colour/],
  ];

  it.each(bad)('refuses %s with 400, the path and the reason, storing nothing (POST and PUT)', async (_name, fields, path, reason) => {
    await call('POST', '/api/rules', { id: 'stable', kind: 'yesno', question: 'Is it raining?' });
    const before = await list();
    const versions = await versionsOf('stable');
    for (const [method, url, body] of [
      ['POST', '/api/rules', { id: 'broken', ...fields }],
      ['PUT', '/api/rules/stable', fields],
    ] as const) {
      const r = await call(method, url, body);
      expect(r.status, method).toBe(400);
      const e = (r.body as ErrorBody).error;
      expect(e.code).toBe('INVALID');
      const issue = e.issues!.find((i) => i.path === path);
      expect(issue, `${method} ${JSON.stringify(e.issues)}`).toBeDefined();
      expect(issue!.message).toMatch(reason);
      expect(e.message).toContain(path ? `${path}: ` : issue!.message);
    }
    expect(await list()).toEqual(before);
    expect(await versionsOf('stable')).toEqual(versions);
    expect((await call('GET', '/api/rules/broken')).status).toBe(404);
  });

  it('a body that is not JSON or not an object is a 400', async () => {
    const r = await fetch(new URL('/api/rules', s.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":' });
    expect(r.status).toBe(400);
    const arr = await call('POST', '/api/rules', [1, 2]);
    expect(arr.status).toBe(400);
    expect((arr.body as ErrorBody).error.code).toBe('INVALID');
  });

  it('without an engine, trying a rule is a 503 that says what to do', async () => {
    const r = await call('POST', '/api/rules/from-file/test', { camera: 'front' });
    expect(r.status).toBe(503);
    expect((r.body as ErrorBody).error).toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
    expect((r.body as ErrorBody).error.message).toMatch(/engine/);
    const unsaved = await call('POST', '/api/rules/test', { rule: { id: 'x', kind: 'yesno', question: '' }, camera: 'front' });
    expect(unsaved.status).toBe(400);
    expect((unsaved.body as ErrorBody).error.issues).toEqual([{ path: 'question', message: 'the question is empty' }]);
  });
});
