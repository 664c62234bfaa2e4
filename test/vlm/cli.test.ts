// `vigil parse` and `vigil ask` through the real CLI (node bin/vigil.mjs), as a user runs them.
import { describe, it, expect, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { chatReply, startFakeOpenAI, type FakeOpenAI } from '../fixtures/vlm/openai-server.ts';
import { writeTinyQwen25VL } from '../fixtures/gguf/index.ts';

const root = resolve(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));

function vigil(args: string[], stdin = '', env: Record<string, string> = {}, cwd = dir): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((ok, fail) => {
    const p = spawn(process.execPath, [join(root, 'bin', 'vigil.mjs'), ...args], { cwd, env: { ...process.env, ...env, VIGIL_LOG_LEVEL: 'silent' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.on('error', fail);
    p.on('exit', (code) => ok({ code, stdout, stderr }));
    p.stdin.end(stdin);
  });
}

describe('vigil parse', () => {
  it('prints boxes and points in source pixels (supervision Qwen2.5-VL figure)', async () => {
    const raw = 'Here:\n```json\n[{"bbox_2d": [10, 20, 110, 120], "label": "cat"}, {"point_2d": [64, 64], "label": "eye"}]\n```';
    const r = await vigil(['parse', '--format', 'qwen2.5-vl', '--sent', '640x640', '--source', '1280x720'], raw);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      boxes: [{ label: 'cat', x1: 20, y1: 22.5, x2: 220, y2: 135, attributes: {} }],
      points: [{ label: 'eye', x: 128, y: 72 }],
    });
  });

  it('reads Gemini and Qwen3-VL frames', async () => {
    const g = await vigil(['parse', '-f', 'gemini', '--sent', '1000x1000', '--source', '1000x500'], '[{"box_2d": [100, 200, 300, 400], "label": "cat"}]');
    expect(JSON.parse(g.stdout).boxes[0]).toMatchObject({ x1: 200, y1: 50, x2: 400, y2: 150 });
    const q3 = await vigil(['parse', '-f', 'qwen3-vl', '--sent', '1312x736', '--source', '1920x1080'], '[{"bbox_2d": [100, 200, 300, 400], "label": "car"}]');
    expect(JSON.parse(q3.stdout).boxes[0]).toMatchObject({ x1: 192, y1: 216, x2: 576, y2: 432 });
  });

  it('unparseable input prints empty lists and exits 0', async () => {
    const r = await vigil(['parse', '--format', 'qwen2.5-vl', '--sent', '640x640', '--source', '1280x720'], 'I cannot see anything.');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ boxes: [], points: [] });
  });

  it.each([
    [['--format', 'qwen2.5-vl', '--sent', '0x5', '--source', '1280x720'], /--sent must be WIDTHxHEIGHT.*"0x5"/],
    [['--format', 'qwen2.5-vl', '--sent', '640x640', '--source', 'big'], /--source must be WIDTHxHEIGHT/],
    [['--format', 'llava', '--sent', '640x640', '--source', '1280x720'], /--format must be one of qwen2.5-vl, qwen3-vl, gemini/],
  ])('bad flags %j exit 2 with the reason', async (flags, msg) => {
    const r = await vigil(['parse', ...flags], '[]');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg);
    expect(r.stdout).toBe('');
  });
});

describe('vigil ask (OpenAI engine against a recording HTTP server)', () => {
  let server: FakeOpenAI;
  afterAll(async () => server?.close());

  it('prints boxes in source pixels with sent size and timings, and writes an annotated copy', async () => {
    // 1920x1080 is sent at 1316x728 (max_pixels 1003520); a box over the centre quarter of the sent
    // frame is the centre quarter of the source.
    server = await startFakeOpenAI(() => chatReply('[{"bbox_2d": [329, 182, 658, 364], "label": "worker", "helmet": "yes"}]'));
    const image = join(dir, 'site.jpg');
    await sharp({ create: { width: 1920, height: 1080, channels: 3, background: '#556' } }).jpeg().toFile(image);
    const cfg = join(dir, 'vigil.yaml');
    writeFileSync(cfg, `engine:\n  kind: openai\n  openai:\n    baseUrl: ${server.baseUrl}\n    model: test-model\n    retries: 0\n`);
    const r = await vigil(['ask', image, 'worker', '-c', cfg, '--attr', 'helmet:boolean'], '', { VIGIL_OPENAI_API_KEY: 'sk-cli' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.boxes).toEqual([{ label: 'worker', x1: 480, y1: 270, x2: 960, y2: 540, attributes: { helmet: true } }]);
    expect(out.points).toEqual([]);
    expect(out.sent).toEqual({ width: 1316, height: 728 });
    expect(out.source).toEqual({ width: 1920, height: 1080 });
    expect(out.timings).toMatchObject({ prefillMs: 123.5, decodeMs: 45.25 });
    expect(out.engine).toMatchObject({ kind: 'openai', family: 'qwen2.5-vl', model: 'test-model' });
    const chat = server.requests.find((q) => q.method === 'POST')!;
    expect(chat.headers.authorization).toBe('Bearer sk-cli');
    expect(chat.body.response_format.json_schema.schema.items.properties).toHaveProperty('helmet');
    const annotated = join(dir, 'site.annotated.jpg');
    expect(out.annotated).toBe(annotated);
    const meta = await sharp(annotated).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 1920, 1080]);
    // The box outline is drawn in red on the grey frame: a pixel on its left edge is no longer grey.
    const { data } = await sharp(annotated).extract({ left: 479, top: 400, width: 3, height: 1 }).raw().toBuffer({ resolveWithObject: true });
    expect(data[3]! - data[5]!).toBeGreaterThan(80);
  });

  it('yesno with --out; a fenced answer is still read, with an INVALID_OUTPUT note on stderr', async () => {
    server.respond = () => chatReply('Sure.\n```json\n{"answer": "no", "reason": "nobody is there"}\n```');
    const image = join(dir, 'door.png');
    await sharp({ create: { width: 640, height: 480, channels: 3, background: '#222' } }).png().toFile(image);
    const out = join(dir, 'door-marked.jpg');
    const cfg = join(dir, 'vigil.yaml');
    const r = await vigil(['ask', image, 'Is anyone at the door?', '-c', cfg, '--kind', 'yesno', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\[INVALID_OUTPUT\] the answer is not valid JSON/);
    expect(JSON.parse(r.stdout)).toMatchObject({ answer: 'no', reason: 'nobody is there', boxes: [], error: { code: 'INVALID_OUTPUT' } });
    expect((await sharp(out).metadata()).width).toBe(640);
  });

  it('an engine error prints [CODE] message and a hint, exit 1', async () => {
    const cfg = join(dir, 'down.yaml');
    writeFileSync(cfg, 'engine:\n  kind: openai\n  openai:\n    baseUrl: http://127.0.0.1:9/v1\n    retries: 0\n');
    const image = join(dir, 'x.jpg');
    await sharp({ create: { width: 64, height: 64, channels: 3, background: '#000' } }).jpeg().toFile(image);
    const r = await vigil(['ask', image, 'person', '-c', cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[REMOTE_ERROR\] cannot reach http:\/\/127\.0\.0\.1:9\/v1/);
    expect(r.stderr).toMatch(/hint: check engine\.openai\.baseUrl/);
    expect(existsSync(join(dir, 'x.annotated.jpg'))).toBe(false);
  });

  it('bad flags exit 2 before any engine starts', async () => {
    const image = join(dir, 'x.jpg');
    for (const [flags, msg] of [
      [['--kind', 'segment'], /--kind must be one of detect, point, count, yesno, describe/],
      [['--attr', 'helmet:bool'], /unknown type "bool"/],
      [['--kind', 'yesno', '--attr', 'helmet:boolean'], /do not apply to yesno/],
    ] as const) {
      const r = await vigil(['ask', image, 'person', ...flags]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
    const missing = await vigil(['ask', join(dir, 'nope.jpg'), 'person']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read image .*nope\.jpg \(ENOENT\)/);
  });
});

describe('vigil ask (local engine, random-weight Qwen2.5-VL pair)', () => {
  it('answers a yes/no question in-process-isolated and reports the grid size and timings', async () => {
    const pair = writeTinyQwen25VL(join(dir, 'tiny'));
    const image = join(dir, 'yard.jpg');
    await sharp({ create: { width: 320, height: 240, channels: 3, background: '#357' } }).jpeg().toFile(image);
    // Run from outside the repository, as an installed `vigil` would be: the worker must still find its loader.
    const r = await vigil(['ask', image, 'Is the gate open?', '--kind', 'yesno', '--engine', 'local', '--model', pair.model, '--mmproj', pair.mmproj], '', {}, dir);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(['yes', 'no']).toContain(out.answer);
    expect(out.engine).toMatchObject({ kind: 'local', family: 'qwen2.5-vl' });
    expect(out.sent).toEqual({ width: 308, height: 252 });
    expect(out.timings.outputTokens).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'yard.annotated.jpg'))).toBe(true);
  }, 120_000);

  it('a missing model file prints the engine code and hint, exit 1', async () => {
    const r = await vigil(['ask', join(dir, 'yard.jpg'), 'person', '--engine', 'local', '--model', join(dir, 'nope.gguf'), '--mmproj', join(dir, 'nope-mmproj.gguf')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[MODEL_MISSING\]/);
    expect(r.stderr).toMatch(/hint: /);
  }, 60_000);
});
