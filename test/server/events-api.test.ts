// /api/events against a real server and the real SQLite store it opens: events written through the store's
// EventSink first (as the rule loop writes them), then listed, filtered, paged, read with their evaluations,
// reviewed, served as images and deleted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { RuleSchema } from '../../config/rule.ts';
import { openSqliteStore, storeFileIn } from '../../pipelines/store/index.ts';
import type { Evaluation, EventRecord, NewEvent } from '../../pipelines/rules/types.ts';
import type { ErrorBody, EventInfo } from '../../server/wire.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const T0 = Date.parse('2026-11-30T10:00:00Z');

const jpeg = (r: number, g: number, b: number, width = 64, height = 36) => sharp({ create: { width, height, channels: 3, background: { r, g, b } } }).jpeg().toBuffer();

function evaluation(rule: string, camera: string, pdt: number): Evaluation {
  return {
    rule,
    ruleVersion: 1,
    camera,
    run: 1,
    pdt,
    outcome: 'positive',
    gated: false,
    prompt: `find ${rule}`,
    raw: '[{"bbox_2d":[10,10,40,30],"label":"car"}]',
    parsed: { boxes: [{ label: 'car', x1: 300, y1: 300, x2: 1200, y2: 900, attributes: {} }], points: [] },
    boxes: [{ label: 'car', x1: 300, y1: 300, x2: 1200, y2: 900, attributes: {} }],
    points: [],
    count: 1,
    truncated: false,
    timings: { encodeMs: 5, prefillMs: 10, decodeMs: 20, totalMs: 35, promptTokens: 120, outputTokens: 18 },
    sourceW: 1920,
    sourceH: 1080,
  };
}

async function newEvent(rule: string, camera: string, startPdt: number, severity: 'alert' | 'detection', colour: number): Promise<NewEvent> {
  return {
    rule: { rule: RuleSchema.parse({ id: rule, kind: 'detect', question: rule, severity }), version: 1 },
    camera,
    startPdt,
    prompt: `find ${rule}`,
    engine: { kind: 'openai', model: 'judge' },
    peak: 1,
    evidence: { pdt: startPdt, snapshot: await jpeg(colour, 0, 0), annotated: await jpeg(0, colour, 0), thumbnail: await jpeg(0, 0, colour, 32, 18) },
    evaluations: [evaluation(rule, camera, startPdt - 1000), evaluation(rule, camera, startPdt)],
  };
}

describe('/api/events', () => {
  let s: TestServer;
  let dataDir: string;
  const ev: EventRecord[] = [];
  const get = async <T>(path: string) => {
    const r = await fetch(new URL(path, s.url));
    return { status: r.status, body: (await r.json()) as T };
  };
  const send = async <T>(method: string, path: string, body?: unknown) => {
    const r = await fetch(new URL(path, s.url), { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
    return { status: r.status, body: (await r.json()) as T };
  };

  beforeAll(async () => {
    dataDir = join(mkdtempSync(join(tmpdir(), 'vigil-events-api-')), 'data');
    const store = await openSqliteStore({ file: storeFileIn(dataDir), dataDir });
    ev.push(await store.events.open(await newEvent('cars', 'front', T0, 'alert', 200)));
    ev.push(await store.events.open(await newEvent('cars', 'yard', T0 + 60_000, 'alert', 150)));
    ev.push(await store.events.open(await newEvent('people', 'front', T0 + 120_000, 'detection', 100)));
    ev[0] = await store.events.close(ev[0]!.id, T0 + 30_000, 'negatives');
    await store.close(); // with two events open: as a crash leaves them
    s = await startTestServer({ cameras: [{ id: 'front', source: 'testsrc' }, { id: 'yard', source: 'testsrc' }] }, { dataDir });
    // One event opened while the server runs (a second connection to the same database, as the loop would write it).
    const live = await openSqliteStore({ file: storeFileIn(dataDir), dataDir });
    ev.push(await live.events.open(await newEvent('people', 'yard', T0 + 180_000, 'detection', 50)));
    await live.close();
  });
  afterAll(async () => {
    await s?.dispose();
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('lists events newest first with the URLs of their images; those a crash left open were closed at start', async () => {
    const { status, body } = await get<{ events: EventInfo[]; next: string | null }>('/api/events');
    expect(status).toBe(200);
    expect(body.events.map((e) => e.id)).toEqual([ev[3]!.id, ev[2]!.id, ev[1]!.id, ev[0]!.id]);
    expect(body.next).toBeNull();
    expect(body.events.map((e) => [e.state, e.closeReason])).toEqual([
      ['open', null],
      ['closed', 'recovered-after-crash'],
      ['closed', 'recovered-after-crash'],
      ['closed', 'negatives'],
    ]);
    const first = body.events[3]!;
    expect(first).toMatchObject({ rule: 'cars', ruleVersion: 1, camera: 'front', severity: 'alert', state: 'closed', startPdt: T0, endPdt: T0 + 30_000, closeReason: 'negatives', peak: 1 });
    expect(first.snapshot).toBe(`/api/events/${first.id}/snapshot`);
    expect(first.annotated).toBe(`/api/events/${first.id}/annotated`);
    expect(first.thumbnail).toBe(`/api/events/${first.id}/thumbnail`);
  });

  it('filters by camera, rule, severity, state and start time', async () => {
    const ids = async (q: string) => (await get<{ events: EventInfo[] }>(`/api/events?${q}`)).body.events.map((e) => e.id);
    expect(await ids('camera=front')).toEqual([ev[2]!.id, ev[0]!.id]);
    expect(await ids('rule=cars&camera=yard')).toEqual([ev[1]!.id]);
    expect(await ids('severity=detection')).toEqual([ev[3]!.id, ev[2]!.id]);
    expect(await ids('state=open')).toEqual([ev[3]!.id]);
    expect(await ids('state=closed&rule=people')).toEqual([ev[2]!.id]);
    expect(await ids(`after=${T0 + 1}&before=${T0 + 180_000}`)).toEqual([ev[2]!.id, ev[1]!.id]);
    expect(await ids(`before=${new Date(T0 + 60_000).toISOString()}`)).toEqual([ev[0]!.id]);
  });

  it('pages with the cursor until next is null', async () => {
    const seen: string[] = [];
    let next: string | null = '';
    for (let i = 0; i < 5 && next !== null; i++) {
      const page: { events: EventInfo[]; next: string | null } = (await get<{ events: EventInfo[]; next: string | null }>(`/api/events?limit=2${next ? `&cursor=${encodeURIComponent(next)}` : ''}`)).body;
      expect(page.events.length).toBeLessThanOrEqual(2);
      seen.push(...page.events.map((e) => e.id));
      next = page.next;
    }
    expect(seen).toEqual([ev[3]!.id, ev[2]!.id, ev[1]!.id, ev[0]!.id]);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=abc', 'limit'],
    ['state=pending', 'state'],
    ['after=yesterday', 'after'],
    ['cursor=not-a-cursor', 'cursor'],
    ['camara=front', ''],
  ])('refuses ?%s with 400 naming %s', async (q, path) => {
    const { status, body } = await get<ErrorBody>(`/api/events?${q}`);
    expect(status).toBe(400);
    expect(body.error.code).toBe('INVALID');
    expect(body.error.issues!.map((i) => i.path)).toContain(path);
  });

  it('reads one event with its evaluations; 404 for an unknown one', async () => {
    const { status, body } = await get<EventInfo & { evaluations: Evaluation[] }>(`/api/events/${ev[1]!.id}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ id: ev[1]!.id, prompt: 'find cars', engine: { kind: 'openai', model: 'judge' } });
    expect(body.evaluations.map((e) => e.pdt)).toEqual([T0 + 59_000, T0 + 60_000]);
    expect(body.evaluations[0]).toMatchObject({ raw: expect.stringContaining('bbox_2d'), boxes: [{ label: 'car', x1: 300, y2: 900 }], timings: { totalMs: 35 } });
    expect((await get(`/api/events/0000000000AAAAAAAAAAAAAAAA`)).status).toBe(404);
  });

  it('PATCH reviews an event (reviewed, verdict, note, keep) and refuses bad fields', async () => {
    const id = ev[1]!.id;
    const r = await send<EventInfo>('PATCH', `/api/events/${id}`, { reviewed: true, verdict: 'false-positive', note: 'a shadow', keep: true });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id, reviewed: true, verdict: 'false-positive', note: 'a shadow', keep: true, snapshot: `/api/events/${id}/snapshot` });
    expect((await get<EventInfo>(`/api/events/${id}`)).body).toMatchObject({ reviewed: true, verdict: 'false-positive', note: 'a shadow', keep: true });
    for (const bad of [{}, { verdict: 'maybe' }, { reviewed: 'yes' }, { state: 'closed' }]) {
      const b = await send<ErrorBody>('PATCH', `/api/events/${id}`, bad);
      expect(b.status, JSON.stringify(bad)).toBe(400);
    }
    expect((await get<EventInfo>(`/api/events/${id}`)).body).toMatchObject({ reviewed: true, verdict: 'false-positive', keep: true });
    expect((await send('PATCH', '/api/events/0000000000AAAAAAAAAAAAAAAA', { reviewed: true })).status).toBe(404);
  });

  it('serves the snapshot, annotated copy and thumbnail as JPEG', async () => {
    const id = ev[0]!.id;
    for (const [image, width, rgb] of [
      ['snapshot', 64, [200, 0, 0]],
      ['annotated', 64, [0, 200, 0]],
      ['thumbnail', 32, [0, 0, 200]],
    ] as const) {
      const r = await fetch(new URL(`/api/events/${id}/${image}`, s.url));
      expect(r.status, image).toBe(200);
      expect(r.headers.get('content-type')).toBe('image/jpeg');
      const { data, info } = await sharp(Buffer.from(await r.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
      expect(info.width).toBe(width);
      // The stored picture itself: its colour, not just any JPEG.
      for (let c = 0; c < 3; c++) expect(Math.abs(data[c]! - rgb[c]!), `${image} channel ${c}`).toBeLessThan(12);
    }
    expect((await fetch(new URL(`/api/events/${id}/raw`, s.url))).status).toBe(400);
    expect((await fetch(new URL('/api/events/0000000000AAAAAAAAAAAAAAAA/snapshot', s.url))).status).toBe(404);
  });

  it('DELETE removes the event and its images (404 afterwards)', async () => {
    const id = ev[3]!.id;
    expect(await send('DELETE', `/api/events/${id}`)).toEqual({ status: 200, body: { deleted: id } });
    expect((await get(`/api/events/${id}`)).status).toBe(404);
    expect((await fetch(new URL(`/api/events/${id}/snapshot`, s.url))).status).toBe(404);
    expect((await send('DELETE', `/api/events/${id}`)).status).toBe(404);
    expect((await get<{ events: EventInfo[] }>('/api/events')).body.events.map((e) => e.id)).not.toContain(id);
  });

  it('applies the Host guard to the events API and its images', async () => {
    const status = (path: string) =>
      new Promise<number>((done, fail) => {
        const req = request({ host: '127.0.0.1', port: s.port, path, headers: { host: 'evil.example' } }, (res) => {
          res.resume();
          done(res.statusCode ?? 0);
        });
        req.on('error', fail);
        req.end();
      });
    expect(await status('/api/events')).toBe(403);
    expect(await status(`/api/events/${ev[0]!.id}/snapshot`)).toBe(403);
  });
});
