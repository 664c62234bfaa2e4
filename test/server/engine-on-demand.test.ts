// A server started with no enabled rule leaves its engine idle (no model load for nothing); the first rule
// enabled through the API starts it, without a restart.
import { afterEach, expect, it } from 'vitest';
import { validateConfig } from '../../config/load.ts';
import { createEngine } from '../../pipelines/engine/create.ts';
import type { VisionEngine } from '../../pipelines/engine/types.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { startVisionJudge, type VisionJudge } from '../support/vision-judge.ts';

let s: TestServer | undefined;
let judge: VisionJudge | undefined;
let engine: VisionEngine | undefined;
afterEach(async () => {
  await s?.dispose();
  await engine?.close();
  await judge?.close();
  s = judge = engine = undefined;
});

it('starts the idle engine when the first rule is created through the API', async () => {
  judge = await startVisionJudge();
  const config = { cameras: [{ id: 'front', source: 'testsrc' }], engine: { kind: 'openai' as const, openai: { baseUrl: judge.baseUrl, model: 'vision-judge', retries: 0 } } };
  engine = await createEngine(validateConfig(config).engine);
  s = await startTestServer(config, { visionEngine: engine });
  const health = async () => ((await (await fetch(new URL('/api/health', s!.url))).json()) as { engine: { state: string } }).engine.state;
  expect(await health()).toBe('idle');
  const r = await fetch(new URL('/api/rules', s.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'fire', kind: 'yesno', question: 'Is there fire?' }),
  });
  expect(r.status).toBe(201);
  await expect.poll(health, { timeout: 10_000 }).toBe('ready');
});
