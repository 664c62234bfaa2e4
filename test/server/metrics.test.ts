// GET /metrics: Prometheus text from Vigil's own registry, counting what the real rules loop did with frames
// through the real OpenAIEngine against the vision judge: a frame asked (positive, an event opened), the same
// picture again (the change gate answers), and one asked while the endpoint refuses (a failed ask by code).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import sharp from 'sharp';
import { validateConfig } from '../../config/load.ts';
import { createEngine } from '../../pipelines/engine/create.ts';
import type { VisionEngine } from '../../pipelines/engine/types.ts';
import type { EventInfo } from '../../server/wire.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { startVisionJudge, type VisionJudge } from '../support/vision-judge.ts';

const W = 448;
const H = 252;

async function squareAt(left: number): Promise<Buffer> {
  const square = await sharp({ create: { width: 84, height: 84, channels: 3, background: { r: 230, g: 20, b: 20 } } }).png().toBuffer();
  return sharp({ create: { width: W, height: H, channels: 3, background: { r: 90, g: 90, b: 90 } } })
    .composite([{ input: square, left, top: 56 }])
    .jpeg({ quality: 92 })
    .toBuffer();
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Value of one sample line, e.g. value(text, 'vigil_rule_events_opened_total', {rule: 'red', camera: 'front'}). */
function value(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return null;
}

describe('GET /metrics', () => {
  let s: TestServer;
  let judge: VisionJudge;
  let engine: VisionEngine;
  const scrape = async () => {
    const r = await fetch(new URL('/metrics', s.url));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return r.text();
  };

  beforeAll(async () => {
    judge = await startVisionJudge();
    const config = {
      cameras: [{ id: 'front', source: 'testsrc' }],
      engine: { kind: 'openai' as const, openai: { baseUrl: judge.baseUrl, model: 'vision-judge', retries: 0 } },
      rules: [{ id: 'red', kind: 'detect' as const, question: 'red square', trigger: { n: 1, of: 1 } }],
    };
    engine = await createEngine(validateConfig(config).engine);
    await engine.start();
    s = await startTestServer(config, { visionEngine: engine });
  });
  afterAll(async () => {
    await s?.dispose();
    await engine?.close();
    await judge?.close();
  });

  it('counts frames, evaluations, events, model time, tokens, asks and message latency', async () => {
    const cam = s.fakes.get('front')!;
    const picture = { jpeg: await squareAt(112), width: W, height: H, sourceW: W, sourceH: H };
    const t = Date.now() - 6000;
    cam.emitFrame(t, picture);
    await until('the event', async () => (await (await fetch(new URL('/api/events', s.url))).json()) as { events: EventInfo[] }, (p) => p.events.length === 1);
    // The same picture a second later: the change gate repeats the answer without asking.
    cam.emitFrame(t + 1000, picture);
    await until('a gated frame', scrape, (m) => value(m, 'vigil_loop_frames_gated_total', { camera: 'front' }) === 1);
    // A changed picture while the endpoint refuses: the ask fails with its code, the rule's evaluation goes unanswered.
    judge.down('refuse');
    cam.emitFrame(t + 2000, { ...picture, jpeg: await squareAt(300) });
    const m = await until('a failed ask', scrape, (x) => (value(x, 'vigil_engine_asks_total', { camera: 'front', result: 'failed' }) ?? 0) >= 1);
    judge.up();

    const where = { rule: 'red', camera: 'front' };
    expect(value(m, 'vigil_camera_frames_sampled_total', { camera: 'front' })).toBe(3);
    expect(value(m, 'vigil_camera_frames_dropped_total', { camera: 'front' })).toBe(0);
    expect(value(m, 'vigil_loop_frames_evaluated_total', { camera: 'front' })).toBe(2);
    expect(value(m, 'vigil_loop_frame_age_seconds_count', { camera: 'front' })).toBe(2);
    expect(value(m, 'vigil_loop_frame_age_seconds_sum', { camera: 'front' })).toBeGreaterThan(5);
    expect(value(m, 'vigil_rule_evaluations_total', { ...where, outcome: 'positive', reason: '' })).toBe(1);
    expect(value(m, 'vigil_rule_evaluations_total', { ...where, outcome: 'positive', reason: 'gated' })).toBe(1);
    const failedCode = /vigil_engine_asks_total\{camera="front",result="failed",code="([A-Z_]+)"\}/.exec(m)?.[1];
    expect(failedCode).toMatch(/^[A-Z_]+$/);
    // The rule's evaluation of that frame is recorded as not answered, with a reason (skipped: engine-down, or error: the code).
    const unanswered = [...m.matchAll(/^vigil_rule_evaluations_total\{rule="red",camera="front",outcome="(error|skipped)",reason="([^"]+)"\} (\d+)$/gm)];
    expect(unanswered.map((x) => Number(x[3]))).toEqual([1]);
    expect(value(m, 'vigil_engine_asks_total', { camera: 'front', result: 'ok' })).toBe(1);
    expect(value(m, 'vigil_rule_events_opened_total', where)).toBe(1);
    expect(value(m, 'vigil_rule_model_seconds_count', where)).toBe(1);
    expect(value(m, 'vigil_rule_tokens_total', { ...where, type: 'prompt' })).toBeGreaterThan(0);
    expect(value(m, 'vigil_rule_tokens_total', { ...where, type: 'output' })).toBeGreaterThan(0);
    // The event message came about 6 s after its frame's pdt (the frame was stamped 6 s in the past).
    expect(value(m, 'vigil_event_message_latency_seconds_count', { type: 'opened' })).toBe(1);
    expect(value(m, 'vigil_event_message_latency_seconds_sum', { type: 'opened' })).toBeGreaterThan(5);
    expect(value(m, 'vigil_engine_state', { state: 'ready' })).toBe(1);
    expect(value(m, 'vigil_engine_state', { state: 'failed' })).toBe(0);
    expect(value(m, 'vigil_engine_queue_depth')).not.toBeNull();
  });

  it('is refused to a foreign Host like every route', async () => {
    const status = await new Promise<number>((done, fail) => {
      const req = request({ host: '127.0.0.1', port: s.port, path: '/metrics', headers: { host: 'rebound.example' } }, (res) => {
        res.resume();
        done(res.statusCode ?? 0);
      });
      req.on('error', fail);
      req.end();
    });
    expect(status).toBe(403);
  });
});
