// Notifications in the running server with the real rule loop: frames pushed in process through the camera
// manager, the real OpenAIEngine asking the vision judge (which finds the red squares in the picture), the real
// store writing events and their messages, a webhook receiver verifying every signature. Also the API around it:
// snooze, dead letters and their retry, rules naming an unknown channel, and the delivery metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { validateConfig } from '../../config/load.ts';
import { createEngine } from '../../pipelines/engine/create.ts';
import type { VisionEngine } from '../../pipelines/engine/types.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { startVisionJudge, type VisionJudge } from '../support/vision-judge.ts';
import { SECRET, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { until } from './helpers.ts';

const W = 448;
const H = 252;

async function squares(lefts: number[]): Promise<Buffer> {
  const square = await sharp({ create: { width: 60, height: 60, channels: 3, background: { r: 230, g: 20, b: 20 } } }).png().toBuffer();
  return sharp({ create: { width: W, height: H, channels: 3, background: { r: 90, g: 90, b: 90 } } })
    .composite(lefts.map((left) => ({ input: square, left, top: 80 })))
    .jpeg({ quality: 92 })
    .toBuffer();
}

describe('notifications from the rule loop', () => {
  let s: TestServer;
  let judge: VisionJudge;
  let engine: VisionEngine;
  let recv: WebhookReceiver;
  let pdt = Date.now() - 60_000;
  const api = (path: string, init?: RequestInit) => fetch(new URL(path, s.url), { ...init, ...(init?.body ? { headers: { 'content-type': 'application/json' } } : {}) });
  const frame = async (lefts: number[]) => {
    pdt += 1000;
    s.fakes.get('front')!.emitFrame(pdt, { jpeg: await squares(lefts), width: W, height: H, sourceW: W, sourceH: H });
  };
  const kinds = () => recv.received.map((r) => `${r.body.data.message}:${r.body.data.event.peak}`);

  beforeAll(async () => {
    [judge, recv] = await Promise.all([startVisionJudge(), startWebhookReceiver()]);
    process.env.VIGIL_TEST_HOOK_SECRET = SECRET;
    pdt = Date.now() - 5000;
    const config = {
      server: { publicUrl: 'https://vigil.example.com' },
      cameras: [{ id: 'front', source: 'testsrc' }],
      engine: { kind: 'openai' as const, openai: { baseUrl: judge.baseUrl, model: 'vision-judge', retries: 0 } },
      analysis: { changeThreshold: 0 },
      rules: [{ id: 'red', kind: 'detect' as const, question: 'red square', trigger: { n: 1, of: 1 }, end: { negatives: 1 }, cooldown: 0 }],
      notify: { channels: [{ id: 'hook', type: 'webhook' as const, url: recv.url, secretEnv: 'VIGIL_TEST_HOOK_SECRET', thumbnail: true }], maxAttempts: 2, backoff: { initialMs: 50, maxMs: 100 } },
    };
    engine = await createEngine(validateConfig(config).engine);
    await engine.start();
    s = await startTestServer(config, { visionEngine: engine });
  }, 30_000);
  afterAll(async () => {
    await s?.dispose();
    await engine?.close();
    await judge?.close();
    await recv?.close();
    delete process.env.VIGIL_TEST_HOOK_SECRET;
  });

  it('sends opened, updated on a bigger count, closed, signed, with absolute links and the thumbnail, and counts them', async () => {
    await frame([40]);
    await until(() => recv.received.length === 1, 'opened');
    await frame([40, 200]);
    await until(() => recv.received.length === 2, 'updated');
    await frame([40, 200]); // same count: no message
    await frame([]);
    await until(() => recv.received.length === 3, 'closed');
    expect(kinds()).toEqual(['opened:1', 'updated:2', 'closed:2']);
    const [opened] = recv.received;
    expect(recv.received.every((r) => r.verified && r.body.data.event.id === opened!.body.data.event.id)).toBe(true);
    const id = opened!.body.data.event.id;
    expect(opened!.body.data.links).toMatchObject({
      snapshot: `https://vigil.example.com/api/events/${id}/snapshot`,
      clip: `https://vigil.example.com/api/events/${id}/clip.mp4`,
      page: `https://vigil.example.com/#/events/${id}`,
    });
    // The clip link is a route of this server: it answers for the event (200 with video kept, else why not).
    const clip = await fetch(new URL(new URL(String(opened!.body.data.links.clip)).pathname, s.url));
    expect(clip.status === 200 || /no recording/.test(await clip.text()), `clip: ${clip.status}`).toBe(true);
    const thumb = await sharp(Buffer.from(opened!.body.data.thumbnail!, 'base64')).metadata();
    expect(thumb.format).toBe('jpeg');
    // The receiver records a request before its 2xx reaches Vigil: wait for the last one to be counted.
    const metricsText = async () => (await fetch(new URL('/metrics', s.url))).text();
    await until(async () => /^vigil_notify_messages_sent_total\{channel="hook"\} 3$/m.test(await metricsText()), 'three messages counted as sent');
    const metrics = await metricsText();
    expect(metrics).toMatch(/^vigil_notify_messages_sent_total\{channel="hook"\} 3$/m);
    expect(metrics).toMatch(/^vigil_notify_delivery_latency_seconds_count\{channel="hook"\} 3$/m);
  }, 30_000);

  it('snoozes a camera through the API: an event opening meanwhile is not notified', async () => {
    expect((await api('/api/snooze', { method: 'POST', body: JSON.stringify({ minutes: 5 }) })).status).toBe(400);
    const made = await api('/api/snooze', { method: 'POST', body: JSON.stringify({ camera: 'front', minutes: 5 }) });
    expect(made.status).toBe(200);
    const snooze = (await made.json()) as { id: number; until: number };
    expect(snooze.until).toBeGreaterThan(Date.now() + 4 * 60_000);
    expect(((await (await api('/api/snooze')).json()) as { snoozes: unknown[] }).snoozes).toHaveLength(1);
    const before = recv.received.length;
    await frame([100]);
    await until(async () => ((await (await api('/api/events?state=open')).json()) as { events: unknown[] }).events.length === 1, 'the snoozed event');
    await frame([]);
    await until(async () => ((await (await api('/api/events?state=open')).json()) as { events: unknown[] }).events.length === 0, 'its close');
    expect((await api(`/api/snooze/${snooze.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await api(`/api/snooze/${snooze.id}`, { method: 'DELETE' })).status).toBe(404);
    await frame([300]);
    await until(() => recv.received.length === before + 1, 'the next event notified');
    expect(recv.received.at(-1)!.body.data.message).toBe('opened');
    await frame([]);
    await until(() => recv.received.length === before + 2, 'its close');
  }, 30_000);

  it('lists dead letters and retries one through the API', async () => {
    recv.failing(true);
    await frame([150]);
    const list = async () => ((await (await api('/api/notifications/dead')).json()) as { messages: Array<{ id: string; attempts: number; lastError: string; kind: string }> }).messages;
    await until(async () => (await list()).length === 1, 'a dead letter');
    const [dead] = await list();
    expect(dead).toMatchObject({ attempts: 2, kind: 'opened' });
    expect(dead!.lastError).toMatch(/503/);
    recv.failing(false);
    const before = recv.received.length;
    const retried = await api(`/api/notifications/dead/${dead!.id}/retry`, { method: 'POST', body: '{}' });
    expect(retried.status).toBe(200);
    await until(() => recv.received.some((r) => r.id === dead!.id), 'the retried message');
    expect(recv.received.length).toBeGreaterThan(before);
    expect((await api(`/api/notifications/dead/${dead!.id}/retry`, { method: 'POST', body: '{}' })).status).toBe(404);
    const metrics = await (await fetch(new URL('/metrics', s.url))).text();
    expect(metrics).toMatch(/^vigil_notify_messages_dead_lettered_total\{channel="hook"\} 1$/m);
    expect(metrics).toMatch(/^vigil_notify_messages_failed_total\{channel="hook"\} 2$/m);
    await frame([]);
  }, 30_000);

  it('refuses a rule naming an unknown channel with the path and the reason', async () => {
    const r = await api('/api/rules', { method: 'POST', body: JSON.stringify({ id: 'blue', kind: 'detect', question: 'blue square', notify: { channels: ['hook', 'pager'] } }) });
    expect(r.status).toBe(400);
    expect(JSON.stringify(await r.json())).toMatch(/notify\.channels\[1\]: unknown channel \\"pager\\" \(configured: hook\)/);
    expect((await api('/api/rules/blue')).status).toBe(404);
  });

  it('lists the configured channels a rule may name: ids and types, never the receiver URL', async () => {
    const r = await api('/api/notifications/channels');
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(JSON.parse(text)).toEqual({ channels: [{ id: 'hook', type: 'webhook' }] });
    expect(text).not.toContain(new URL(recv.url).host);
  });
});
