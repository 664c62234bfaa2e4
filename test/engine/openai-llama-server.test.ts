// The OpenAI-compatible engine against llama.cpp's own llama-server (built from the source bundled in the
// installed node-llama-cpp), serving a random-weight Qwen2.5-VL pair. Random weights write valid JSON only
// when a grammar forces them to: schema-valid answers prove the server honoured Vigil's response_format.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { buildLlamaServer } from '../support/llama-tools.ts';
import { writeTinyQwen25VL } from '../fixtures/gguf/index.ts';
import { schemaViolations } from '../support/schema.ts';
import { OpenAIEngine } from '../../pipelines/engine/openai.ts';
import { DEFAULT_RETRY } from '../../pipelines/engine/openai-http.ts';
import { buildQuestion } from '../../pipelines/vlm/questions.ts';
import { parseAttributeSpec } from '../../pipelines/vlm/attributes.ts';
import { prepareImage } from '../../pipelines/vlm/image.ts';
import { parseAnswer } from '../../pipelines/vlm/parse.ts';

// The engine's cap sits above every question's own budget, so the budgets themselves are under test.
const TOKENS = 4096;
let proc: ChildProcess | undefined;
let baseUrl = '';
let log = '';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function waitHealthy(url: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (proc?.exitCode !== null) throw new Error(`llama-server exited (${proc?.exitCode}):\n${log.slice(-3000)}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`llama-server not healthy after ${ms} ms:\n${log.slice(-3000)}`);
}

beforeAll(async () => {
  const bin = await buildLlamaServer();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-llama-server-'));
  const { model, mmproj } = writeTinyQwen25VL(dir);
  const port = await freePort();
  proc = spawn(bin, ['-m', model, '--mmproj', mmproj, '--host', '127.0.0.1', '--port', String(port), '-c', '8192', '-np', '1', '-t', '2', '--seed', '7'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d: Buffer) => (log += d));
  proc.stderr!.on('data', (d: Buffer) => (log += d));
  baseUrl = `http://127.0.0.1:${port}`;
  await waitHealthy(baseUrl, 60_000);
}, 300_000);

afterAll(async () => {
  if (!proc || proc.exitCode !== null) return;
  const exited = new Promise((r) => proc!.once('exit', r));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc!.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
});

function engine(maxPixels = 112 * 112): OpenAIEngine {
  return new OpenAIEngine({
    baseUrl: `${baseUrl}/v1`,
    model: 'tiny-qwen2.5-vl',
    family: 'qwen2.5-vl',
    timeoutMs: 120_000,
    concurrency: 1,
    maxAnswerTokens: TOKENS,
    minPixels: 3136,
    maxPixels,
    retry: { ...DEFAULT_RETRY, retries: 0 },
  });
}

describe('OpenAIEngine -> llama-server (random-weight Qwen2.5-VL)', () => {
  it('every question kind comes back schema-valid under the json_schema grammar', async () => {
    const e = engine();
    await e.start();
    try {
      const src = await sharp({ create: { width: 160, height: 120, channels: 3, background: '#3a6' } }).jpeg().toBuffer();
      const prepared = await prepareImage(src, e.info);
      expect(prepared.sent).toEqual({ width: 112, height: 84 });
      const common = { family: 'qwen2.5-vl' as const, sent: prepared.sent, maxItems: 3 };
      const questions = [
        buildQuestion('detect', 'person', { ...common, id: 'detect', attributes: ['helmet:boolean', 'color:enum(red|blue)'].map(parseAttributeSpec) }),
        buildQuestion('point', 'person', { ...common, id: 'point', attributes: [parseAttributeSpec('head:point')] }),
        buildQuestion('count', 'cars', { ...common, id: 'count' }),
        buildQuestion('yesno', 'Is the gate open?', { ...common, id: 'yesno' }),
        buildQuestion('describe', 'Describe the scene.', { ...common, id: 'describe' }),
      ];
      // Left free, random weights often close the list at once; requiring two objects makes the grammar
      // produce full ones (box, label, both attributes) every time.
      questions.push({ ...questions[0]!, id: 'detect-2', schema: { ...questions[0]!.schema, minItems: 2 } });
      const t0 = performance.now();
      const answers = await e.ask({ frames: [prepared.image], questions });
      const wall = performance.now() - t0;
      for (const [i, a] of answers.entries()) {
        const q = questions[i]!;
        expect(a.questionId).toBe(q.id);
        expect(a.error, `${q.id}: ${a.raw.slice(0, 300)}`).toBeUndefined();
        expect(schemaViolations(a.value, q.schema), `${q.id}: ${a.raw.slice(0, 300)}`).toEqual([]);
        expect(a.timings.outputTokens).toBeGreaterThan(0);
        // And the parser turns it into source-pixel detections inside the frame.
        const kind = q.id === 'detect-2' ? 'detect' : (q.id as 'detect');
        const parsed = parseAnswer(a.raw, { family: 'qwen2.5-vl', sent: prepared.sent, source: prepared.source }, kind);
        for (const b of parsed.boxes) expect(b.x2 <= 160 && b.y2 <= 120 && b.x1 < b.x2 && b.y1 < b.y2).toBe(true);
      }
      const forced = answers.at(-1)!.value as Array<Record<string, unknown>>;
      expect(forced.length).toBeGreaterThanOrEqual(2);
      for (const o of forced) expect(Object.keys(o).sort()).toEqual(['bbox_2d', 'color', 'helmet', 'label']);
      console.log(
        `llama-server, tiny random Qwen2.5-VL, 112x84 image, ${answers.length} questions: ${wall.toFixed(0)} ms wall; ` +
          answers.map((a) => `${a.questionId}: prefill ${a.timings.prefillMs.toFixed(0)} ms, ${a.timings.outputTokens} tok in ${a.timings.decodeMs.toFixed(0)} ms`).join('; ') +
          `\ndetect-2 raw: ${answers.at(-1)!.raw.slice(0, 300)}`,
      );
    } finally {
      await e.close();
    }
  }, 240_000);

  it('the flat response_format form is ignored by llama-server (why Vigil never sends it)', async () => {
    const e = engine();
    const src = await sharp({ create: { width: 112, height: 84, channels: 3, background: '#a36' } }).jpeg().toBuffer();
    const q = buildQuestion('yesno', 'Is the gate open?', { family: 'qwen2.5-vl' });
    const body = e.body(q, [`data:image/jpeg;base64,${src.toString('base64')}`]);
    const post = async (response_format: unknown) => {
      const res = await fetch(`${baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, response_format, max_tokens: 1024 }),
      });
      expect(res.status).toBe(200);
      const j = (await res.json()) as { choices: Array<{ message: { content: string } }> };
      return j.choices[0]!.message.content;
    };
    const valid = (raw: string) => {
      try {
        return schemaViolations(JSON.parse(raw), q.schema).length === 0;
      } catch {
        return false;
      }
    };
    const nested = await post(body.response_format);
    const flat = await post({ type: 'json_schema', schema: q.schema });
    expect(valid(nested), nested).toBe(true);
    expect(valid(flat), `flat form produced schema-valid output: ${flat}`).toBe(false);
  }, 120_000);

  it('vigil ask through the real CLI answers from llama-server and writes the annotated copy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-ask-llama-'));
    const image = join(dir, 'gate.jpg');
    await sharp({ create: { width: 160, height: 120, channels: 3, background: '#468' } }).jpeg().toFile(image);
    const cfg = join(dir, 'vigil.yaml');
    writeFileSync(cfg, `engine:\n  kind: openai\n  maxPixels: 12544\n  openai:\n    baseUrl: ${baseUrl}/v1\n    maxAnswerTokens: ${TOKENS}\n    retries: 0\n`);
    const r = spawnSync(process.execPath, ['bin/vigil.mjs', 'ask', image, 'Is the gate open?', '--kind', 'yesno', '-c', cfg], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(['yes', 'no']).toContain(out.answer);
    expect(typeof out.reason, r.stdout).toBe('string');
    expect(out.sent).toEqual({ width: 112, height: 84 });
    expect(out.error).toBeUndefined();
    expect(existsSync(join(dir, 'gate.annotated.jpg'))).toBe(true);
  }, 150_000);

  it('images on the grid reach the model unresized (prompt tokens grow by exactly the image tokens)', async () => {
    const e = engine(1003520);
    await e.start();
    try {
      const q = buildQuestion('yesno', 'Is it dark?', { family: 'qwen2.5-vl', id: 'dark' });
      const promptTokens = async (w: number, h: number) => {
        const src = await sharp({ create: { width: w, height: h, channels: 3, background: '#111' } }).jpeg().toBuffer();
        const { image, sent } = await prepareImage(src, e.info);
        const [a] = await e.ask({ frames: [image], questions: [q] });
        return { sent, tokens: a!.timings.promptTokens };
      };
      // One image token per 28x28 block (patch 14, merge 2).
      const a = await promptTokens(112, 84); // 4x3 = 12 tokens
      const b = await promptTokens(224, 168); // 8x6 = 48 tokens
      expect(b.tokens - a.tokens).toBe(36);
      // 56x56 would be 4 tokens, under llama.cpp's minimum of 8 (it would resize it again); the engine's
      // pixel floor sends it at 84x84 (9 tokens) itself, so the size the model saw is the size Vigil knows.
      const c = await promptTokens(56, 56);
      expect(c.sent).toEqual({ width: 84, height: 84 });
      expect(c.tokens - a.tokens).toBe(9 - 12);
    } finally {
      await e.close();
    }
  }, 120_000);
});
