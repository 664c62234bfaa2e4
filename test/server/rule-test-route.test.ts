// POST /api/rules/:id/test and /api/rules/test against a real server whose rules loop asks the real OpenAIEngine,
// pointed at the vision judge (an OpenAI-compatible endpoint that answers from the picture itself). The camera's
// newest frame is a generated picture with a red square at a known place: the boxes must land on it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { validateConfig } from '../../config/load.ts';
import { createEngine } from '../../pipelines/engine/create.ts';
import type { VisionEngine } from '../../pipelines/engine/types.ts';
import type { ErrorBody, EventInfo, RuleInfo, RuleTestInfo } from '../../server/wire.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { startVisionJudge, type VisionJudge } from '../support/vision-judge.ts';

// On the Qwen2.5-VL grid (28 px), sent as is; the square covers x 112..196, y 56..140.
const W = 448;
const H = 252;
const SQUARE = { x: 112, y: 56, size: 84 };

async function redSquareFrame(): Promise<Buffer> {
  const square = await sharp({ create: { width: SQUARE.size, height: SQUARE.size, channels: 3, background: { r: 230, g: 20, b: 20 } } }).png().toBuffer();
  return sharp({ create: { width: W, height: H, channels: 3, background: { r: 90, g: 90, b: 90 } } })
    .composite([{ input: square, left: SQUARE.x, top: SQUARE.y }])
    .jpeg({ quality: 92 })
    .toBuffer();
}

describe('trying a rule on the newest frame', () => {
  let s: TestServer;
  let judge: VisionJudge;
  let engine: VisionEngine;
  let jpeg: Buffer;
  const post = async <T>(path: string, body: unknown) => {
    const r = await fetch(new URL(path, s.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as T };
  };
  const getJson = async <T>(path: string) => (await (await fetch(new URL(path, s.url))).json()) as T;

  beforeAll(async () => {
    judge = await startVisionJudge();
    const config = {
      cameras: [
        { id: 'front', source: 'testsrc' },
        { id: 'back', source: 'testsrc' },
      ],
      engine: { kind: 'openai' as const, openai: { baseUrl: judge.baseUrl, model: 'vision-judge', retries: 0 } },
    };
    engine = await createEngine(validateConfig(config).engine);
    await engine.start();
    s = await startTestServer(config, { visionEngine: engine });
    jpeg = await redSquareFrame();
    s.fakes.get('front')!.emitFrame(Date.now(), { jpeg, width: W, height: H, sourceW: W, sourceH: H });
  });
  afterAll(async () => {
    await s?.dispose();
    await engine?.close();
    await judge?.close();
  });

  it('runs an unsaved detect rule and finds the square where it is, with an annotated frame', async () => {
    const { status, body } = await post<RuleTestInfo>('/api/rules/test', { rule: { id: 'try', kind: 'detect', question: 'red square' }, camera: 'front' });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ camera: 'front', positive: true, outcome: 'positive', reason: null, count: 1 });
    expect(body.prompt).toContain('red square');
    expect(body.raw).toContain('bbox_2d');
    const box = body.boxes[0]!;
    for (const [got, want] of [
      [box.x1, SQUARE.x],
      [box.y1, SQUARE.y],
      [box.x2, SQUARE.x + SQUARE.size],
      [box.y2, SQUARE.y + SQUARE.size],
    ]) expect(Math.abs(got! - want!)).toBeLessThanOrEqual(4);
    expect(body.parsed?.boxes).toHaveLength(1);
    expect(body.timings?.totalMs).toBeGreaterThanOrEqual(0);
    expect(body.annotated).toMatch(/^data:image\/jpeg;base64,/);
    const annotated = Buffer.from(body.annotated.split(',')[1]!, 'base64');
    expect(await sharp(annotated).metadata()).toMatchObject({ format: 'jpeg', width: W, height: H });
  });

  it('answers a yes/no rule that does not hold as negative', async () => {
    const { status, body } = await post<RuleTestInfo>('/api/rules/test', { rule: { id: 'blue', kind: 'yesno', question: 'Is there a blue circle?' }, camera: 'front' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ positive: false, outcome: 'negative', answer: 'no' });
  });

  it('runs a saved rule (its first camera by default) and changes no state', async () => {
    const created = await post<RuleInfo>('/api/rules', { id: 'red-count', kind: 'count', question: 'red squares', cameras: ['front'], enabled: false });
    expect(created.status).toBe(201);
    const eventsBefore = await getJson<{ events: EventInfo[] }>('/api/events');
    const asked = judge.requests.length;
    const { status, body } = await post<RuleTestInfo>('/api/rules/red-count/test', {});
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ camera: 'front', positive: true, count: 1 });
    expect(judge.requests.length).toBe(asked + 1);
    expect(await getJson('/api/events')).toEqual(eventsBefore);
    expect(await getJson<RuleInfo[]>('/api/rules/red-count/versions')).toHaveLength(1);
    expect(await getJson('/api/rules/red-count')).toEqual(created.body);
  });

  it('409 with what to do when the camera has no frame yet; 404 for an unknown camera', async () => {
    const none = await post<ErrorBody>('/api/rules/test', { rule: { id: 'x', kind: 'detect', question: 'red square' }, camera: 'back' });
    expect(none.status).toBe(409);
    expect(none.body.error.code).toBe('NO_FRAME');
    expect(none.body.error.message).toMatch(/camera "back" has no frame yet.*try again/);
    const unknown = await post<ErrorBody>('/api/rules/test', { rule: { id: 'x', kind: 'detect', question: 'red square' }, camera: 'garage' });
    expect(unknown.status).toBe(404);
    expect((await post<ErrorBody>('/api/rules/nope/test', { camera: 'front' })).status).toBe(404);
  });

  it('hands API rule changes to the loop: a created rule is evaluated, a deleted one closes its event', async () => {
    const created = await post<RuleInfo>('/api/rules', { id: 'api-red', kind: 'detect', question: 'red square', cameras: ['front'], trigger: { n: 1, of: 1 } });
    expect(created.status).toBe(201);
    s.fakes.get('front')!.emitFrame(Date.now(), { jpeg, width: W, height: H, sourceW: W, sourceH: H });
    const opened = await until(async () => (await getJson<{ events: EventInfo[] }>('/api/events?rule=api-red')).events, (e) => e.length === 1);
    expect(opened[0]).toMatchObject({ state: 'open', ruleVersion: 1, camera: 'front' });
    const del = await fetch(new URL('/api/rules/api-red', s.url), { method: 'DELETE' });
    expect(del.status).toBe(200);
    const closed = await until(async () => getJson<EventInfo>(`/api/events/${opened[0]!.id}`), (e) => e.state === 'closed');
    expect(closed.closeReason).toBe('rule-removed');
  });
});

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out; last ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
