import { describe, it, expect, afterEach } from 'vitest';
import sharp from 'sharp';
import { pino } from 'pino';
import { OpenAIEngine, RemoteHttpError, type OpenAIEngineOptions } from '../../pipelines/engine/openai.ts';
import { retryDelayMs, parseRetryAfter, DEFAULT_RETRY, serverMessage } from '../../pipelines/engine/openai-http.ts';
import { EngineError, type EngineImage } from '../../pipelines/engine/types.ts';
import { buildQuestion } from '../../pipelines/vlm/questions.ts';
import { chatReply, startFakeOpenAI, type FakeOpenAI } from '../fixtures/vlm/openai-server.ts';

let server: FakeOpenAI | undefined;
let engine: OpenAIEngine | undefined;
afterEach(async () => {
  await engine?.close();
  await server?.close();
  engine = server = undefined;
});

const FAST_RETRY = { ...DEFAULT_RETRY, initialMs: 10, maxMs: 40, jitter: 0, retries: 2 };
function makeEngine(baseUrl: string, o: Partial<OpenAIEngineOptions> = {}): OpenAIEngine {
  engine = new OpenAIEngine({
    baseUrl,
    model: 'qwen2.5-vl-7b',
    family: 'qwen2.5-vl',
    apiKeyEnv: 'VIGIL_TEST_KEY',
    env: { VIGIL_TEST_KEY: 'sk-test-123' },
    timeoutMs: 5000,
    concurrency: 4,
    maxAnswerTokens: 512,
    minPixels: 3136,
    maxPixels: 1003520,
    retry: FAST_RETRY,
    ...o,
  });
  return engine;
}

async function frame(color: string): Promise<EngineImage> {
  const jpeg = await sharp({ create: { width: 56, height: 28, channels: 3, background: color } }).jpeg().toBuffer();
  return { jpeg, width: 56, height: 28 };
}

const detect = buildQuestion('detect', 'person', { family: 'qwen2.5-vl', maxItems: 4, sent: { width: 56, height: 28 }, id: 'q/1 people' });
const BOXES = '[{"bbox_2d": [1, 2, 30, 20], "label": "person"}]';

async function codeOf(p: Promise<unknown>): Promise<EngineError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EngineError) return e;
    throw e;
  }
  throw new Error('expected an EngineError');
}

describe('OpenAIEngine against a recording HTTP server', () => {
  it('sends data URIs on the grid, the nested json_schema form, the model and the key from the environment', async () => {
    server = await startFakeOpenAI(() => chatReply(BOXES));
    const e = makeEngine(server.baseUrl + '/');
    await e.start();
    const frames = [await frame('#f00'), await frame('#00f')];
    const [a] = await e.ask({ frames, questions: [detect] });

    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /v1/models', 'POST /v1/chat/completions']);
    const req = server.requests[1]!;
    expect(req.headers.authorization).toBe('Bearer sk-test-123');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.body.model).toBe('qwen2.5-vl-7b');
    expect(req.body.temperature).toBe(0);
    expect(req.body.max_tokens).toBe(Math.min(detect.maxTokens!, 512));
    const content = req.body.messages[0].content;
    expect(req.body.messages[0].role).toBe('user');
    expect(content.map((c: any) => c.type)).toEqual(['image_url', 'image_url', 'text']);
    content.slice(0, 2).forEach((c: any, i: number) => {
      expect(c.image_url.url.startsWith('data:image/jpeg;base64,')).toBe(true);
      expect(Buffer.from(c.image_url.url.split(',')[1], 'base64').equals(frames[i]!.jpeg)).toBe(true);
    });
    expect(content[2].text).toBe(detect.prompt);
    // The form llama.cpp's server and vLLM both honour; never the flat form llama.cpp ignores.
    expect(req.body.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'q_1_people', schema: detect.schema, strict: true } });
    expect(req.body.response_format).not.toHaveProperty('schema');

    expect(a!.questionId).toBe('q/1 people');
    expect(a!.value).toEqual(JSON.parse(BOXES));
    expect(a!.error).toBeUndefined();
    expect(a!.timings).toMatchObject({ prefillMs: 123.5, decodeMs: 45.25, promptTokens: 300, outputTokens: 12 });
    expect(e.info).toMatchObject({ kind: 'openai', family: 'qwen2.5-vl', coordinateFrame: 'pixels', gridFactor: 28, device: 'remote' });
  });

  it('sends no authorization header when the key variable is unset; a refused question is its own error, never the key', async () => {
    server = await startFakeOpenAI(() => ({ status: 400, body: { error: { message: 'bad image' } } }));
    const e = makeEngine(server.baseUrl, { env: {} });
    await e.start();
    const [answer] = await e.ask({ frames: [await frame('#0f0')], questions: [detect] });
    const err = answer!.error!;
    expect(answer).toMatchObject({ questionId: detect.id, value: null, truncated: false });
    expect(server.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
    expect(err.code).toBe('REMOTE_ERROR');
    expect(err).toBeInstanceOf(RemoteHttpError);
    expect((err as RemoteHttpError).status).toBe(400);
    expect(err.message).toContain('bad image');
    expect(server.requests.length).toBe(2); // a 400 is not retried
  });

  it('retries a 429 after the Retry-After the server asked for, then succeeds (the wait itself: npm run bench openai-retry)', async () => {
    server = await startFakeOpenAI((_r, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: { error: { message: 'slow down' } } } : chatReply(BOXES)));
    const retries: unknown[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void retries.push(JSON.parse(line)) });
    const e = makeEngine(server.baseUrl, { log });
    await e.start();
    const [a] = await e.ask({ frames: [await frame('#fff')], questions: [detect] });
    expect(server.requests.filter((r) => r.method === 'POST').length).toBe(2);
    // The delay chosen is the server's 1 s, not the 10 ms backoff; the injected logger says so.
    expect(retries).toEqual([expect.objectContaining({ msg: 'retrying', attempt: 1, delayMs: 1000, reason: expect.stringMatching(/HTTP 429: slow down/) })]);
    expect(a!.value).toEqual(JSON.parse(BOXES));
  });

  it('one question refused by the server (HTTP 422) is that answer\'s error; the other questions answer', async () => {
    server = await startFakeOpenAI((r) => (r.body.response_format.json_schema.name === 'bad' ? { status: 422, body: { error: { message: 'unsupported schema' } } } : chatReply(BOXES)));
    const e = makeEngine(server.baseUrl);
    await e.start();
    const answers = await e.ask({ frames: [await frame('#fff')], questions: [detect, { ...detect, id: 'bad' }] });
    expect(answers[0]).toMatchObject({ value: JSON.parse(BOXES) });
    expect(answers[0]!.error).toBeUndefined();
    expect(answers[1]).toMatchObject({ questionId: 'bad', value: null, error: { code: 'REMOTE_ERROR', status: 422, message: expect.stringMatching(/unsupported schema/) } });
  });

  it('gives up after the configured retries on 500 with REMOTE_ERROR, status and the server message', async () => {
    server = await startFakeOpenAI(() => ({ status: 500, body: { error: { code: 500, message: 'failed to load image', type: 'server_error' } } }));
    const e = makeEngine(server.baseUrl);
    await e.start();
    const err = await codeOf(e.ask({ frames: [await frame('#fff')], questions: [detect] }));
    expect(err.code).toBe('REMOTE_ERROR');
    expect((err as RemoteHttpError).status).toBe(500);
    expect(err.message).toMatch(/HTTP 500: failed to load image/);
    expect(server.requests.filter((r) => r.method === 'POST').length).toBe(1 + FAST_RETRY.retries);
  });

  it('retries a dropped connection', async () => {
    server = await startFakeOpenAI((_r, n) => (n === 0 ? { destroy: true } : chatReply(BOXES)));
    const e = makeEngine(server.baseUrl);
    await e.start();
    const [a] = await e.ask({ frames: [await frame('#fff')], questions: [detect] });
    expect(a!.value).toEqual(JSON.parse(BOXES));
    expect(server.requests.filter((r) => r.method === 'POST').length).toBe(2);
  });

  it('times out a slow server with TIMEOUT', async () => {
    server = await startFakeOpenAI(() => ({ ...chatReply(BOXES), delayMs: 1500 }));
    const e = makeEngine(server.baseUrl, { timeoutMs: 200 });
    await e.start();
    const err = await codeOf(e.ask({ frames: [await frame('#fff')], questions: [detect] }));
    expect(err.code).toBe('TIMEOUT'); // how soon: npm run bench openai-retry
  });

  it('keeps at most `concurrency` requests in flight and answers every question in order', async () => {
    server = await startFakeOpenAI((r) => ({ ...chatReply(JSON.stringify({ id: r.body.response_format.json_schema.name })), delayMs: 80 }));
    const e = makeEngine(server.baseUrl, { concurrency: 2 });
    await e.start();
    const questions = Array.from({ length: 6 }, (_, i) => ({ ...detect, id: `q${i}` }));
    const answers = await e.ask({ frames: [await frame('#fff')], questions });
    expect(answers.map((a) => (a.value as { id: string }).id)).toEqual(['q0', 'q1', 'q2', 'q3', 'q4', 'q5']);
    expect(server.maxInFlight).toBe(2);
  });

  it('aborting the request gives ABORTED and stops questions not yet sent', async () => {
    server = await startFakeOpenAI(() => ({ ...chatReply(BOXES), delayMs: 300 }));
    const e = makeEngine(server.baseUrl, { concurrency: 1 });
    await e.start();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const questions = Array.from({ length: 4 }, (_, i) => ({ ...detect, id: `q${i}` }));
    const err = await codeOf(e.ask({ frames: [await frame('#fff')], questions, signal: ac.signal }));
    expect(err.code).toBe('ABORTED');
    await new Promise((r) => setTimeout(r, 400));
    expect(server.requests.filter((r) => r.method === 'POST').length).toBe(1);
  });

  it('an answer that is not JSON comes back with INVALID_OUTPUT and the raw text', async () => {
    server = await startFakeOpenAI(() => {
      const r = chatReply('[{"bbox_2d": [1, 2');
      (r.body as any).choices[0].finish_reason = 'length';
      return r;
    });
    const e = makeEngine(server.baseUrl);
    await e.start();
    const [a] = await e.ask({ frames: [await frame('#fff')], questions: [detect] });
    expect(a!.value).toBeNull();
    expect(a!.raw).toBe('[{"bbox_2d": [1, 2');
    expect(a!.error?.code).toBe('INVALID_OUTPUT');
    expect(a!.error?.message).toMatch(/token cap/);
    expect(a!.truncated).toBe(true);
  });

  it('start() fails with REMOTE_ERROR when nothing listens; ask() needs start() and fails after close()', async () => {
    server = await startFakeOpenAI(() => chatReply(BOXES));
    const url = server.baseUrl;
    await server.close();
    server = undefined;
    const e = makeEngine(url);
    const err = await codeOf(e.start());
    expect(err.code).toBe('REMOTE_ERROR');
    expect(err.message).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+\/v1: ECONNREFUSED/);
    expect((await codeOf(e.ask({ frames: [await frame('#fff')], questions: [detect] }))).code).toBe('NOT_STARTED');
    expect(e.health).toMatchObject({ status: 'failed', lastError: { code: 'REMOTE_ERROR' } });
    server = await startFakeOpenAI(() => chatReply(BOXES));
    const e2 = makeEngine(server.baseUrl);
    const seen: string[] = [];
    e2.on('ready', (info) => void seen.push(`ready:${info.maxQuestionsPerAsk}`));
    e2.on('closed', () => void seen.push('closed'));
    e2.on('died', () => void seen.push('died'));
    await e2.start();
    expect(e2.state).toBe('ready');
    await e2.close();
    await e2.close();
    expect(seen).toEqual(['ready:null', 'closed']); // a requested close is never a death
    expect(e2.state).toBe('closed');
    expect((await codeOf(e2.ask({ frames: [await frame('#fff')], questions: [detect] }))).code).toBe('NOT_STARTED');
  });

  it('start() reports a refused key with a hint naming the variable, never the key', async () => {
    const { createServer } = await import('node:http');
    const refuse = createServer((_q, r) => r.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"message":"Invalid API Key"}}'));
    await new Promise<void>((r) => refuse.listen(0, '127.0.0.1', r));
    try {
      const port = (refuse.address() as { port: number }).port;
      const err = await codeOf(makeEngine(`http://127.0.0.1:${port}/v1`).start());
      expect(err.code).toBe('REMOTE_ERROR');
      expect(err.message).toContain('Invalid API Key');
      expect(`${err.message} ${err.hint}`).not.toContain('sk-test-123');
      expect(err.hint).toContain('VIGIL_TEST_KEY');
    } finally {
      refuse.close();
    }
  });
});

describe('OpenAIEngine.info', () => {
  it("keeps the pixel budget inside llama.cpp's 8..4096 image tokens, so no server resizes again", () => {
    const e = makeEngine('http://127.0.0.1:9/v1', { minPixels: 3136, maxPixels: 1e8 });
    expect([e.info.minPixels, e.info.maxPixels]).toEqual([8 * 784, 4096 * 784]);
    const q3 = makeEngine('http://127.0.0.1:9/v1', { family: 'qwen3-vl', minPixels: 3136, maxPixels: 1003520 });
    expect([q3.info.minPixels, q3.info.maxPixels]).toEqual([8 * 1024, 1003520]);
  });
});

describe('retry policy', () => {
  const p = { ...DEFAULT_RETRY, jitter: 0 };
  it('backs off exponentially up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5].map((a) => retryDelayMs(a, p))).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
  });
  it('jitter only shortens a delay, by at most its share', () => {
    expect(retryDelayMs(1, { ...p, jitter: 0.2 }, null, 0, () => 0)).toBe(800);
    expect(retryDelayMs(1, { ...p, jitter: 0.2 }, null, 0, () => 1)).toBe(1000);
  });
  it('honours Retry-After in seconds or as a date, within the cap', () => {
    expect(retryDelayMs(0, p, '3')).toBe(3000);
    expect(retryDelayMs(3, p, '1')).toBe(4000); // backoff longer than the server asked
    expect(retryDelayMs(0, p, '3600')).toBe(60_000);
    const now = Date.parse('2026-11-25T10:00:00Z');
    expect(parseRetryAfter('Wed, 25 Nov 2026 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
  it('reads error messages of OpenAI, vLLM and plain-text servers', () => {
    expect(serverMessage('{"error":{"message":"x"}}')).toBe('x');
    expect(serverMessage('{"object":"error","message":"y"}')).toBe('y');
    expect(serverMessage('Bad Gateway')).toBe('Bad Gateway');
  });
});

describe('createEngine', () => {
  it('builds the OpenAI engine from config, with the model override', async () => {
    const { createEngine } = await import('../../pipelines/engine/create.ts');
    const { validateConfig } = await import('../../config/load.ts');
    const cfg = validateConfig({ engine: { kind: 'openai', openai: { family: 'qwen3-vl', model: 'm1' } } });
    const e = await createEngine(cfg.engine, { model: 'm2' });
    expect(e).toBeInstanceOf(OpenAIEngine);
    expect(e.info).toMatchObject({ kind: 'openai', family: 'qwen3-vl', coordinateFrame: 'norm1000', gridFactor: 32, model: 'm2', maxPixels: 1003520 });
    const viaOverride = await createEngine(validateConfig({}).engine, { kind: 'openai' });
    expect(viaOverride.info.kind).toBe('openai');
  });

  it('builds the local engine (not started) with model paths from the overrides', async () => {
    const { createEngine } = await import('../../pipelines/engine/create.ts');
    const { validateConfig } = await import('../../config/load.ts');
    const e = await createEngine(validateConfig({ engine: { maxPixels: 200704 } }).engine, { model: '/models/a.gguf', mmproj: '/models/mmproj-a.gguf' });
    expect(e.info).toMatchObject({ kind: 'local', family: 'qwen2.5-vl', gridFactor: 28, model: 'a.gguf', maxPixels: 200704 });
    await e.close();
  });
});
