// The vision judge answers from the picture: pictures drawn here with known shapes go through Vigil's real
// OpenAI engine, prompts (buildQuestion), grid resize (prepareImage) and parser (parseAnswer); the boxes that come
// back, mapped to source pixels, must sit on the shapes drawn.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { OpenAIEngine, type OpenAIEngineOptions } from '../../pipelines/engine/openai.ts';
import { DEFAULT_RETRY } from '../../pipelines/engine/openai-http.ts';
import type { ModelFamily } from '../../pipelines/engine/types.ts';
import { buildQuestion, parseAnswer, prepareImage, type ParsedAnswer, type QuestionKind } from '../../pipelines/vlm/index.ts';
import { startVisionJudge, type VisionJudge } from './vision-judge.ts';

const W = 640;
const H = 360;
type Shape = { kind: 'square' | 'circle' | 'triangle'; rgb: [number, number, number]; x: number; y: number; size: number };
const RED: Shape = { kind: 'square', rgb: [220, 30, 30], x: 100, y: 120, size: 80 };
const BLUE: Shape = { kind: 'circle', rgb: [30, 60, 220], x: 320, y: 160, size: 80 };
const YELLOW: Shape = { kind: 'triangle', rgb: [240, 220, 20], x: 480, y: 200, size: 100 };

/** A grey picture with the shapes drawn pixel by pixel (square/circle/triangle inside size x size at x, y). */
async function picture(shapes: Shape[]): Promise<Buffer> {
  const px = Buffer.alloc(W * H * 3, 90);
  for (const s of shapes) {
    for (let y = s.y; y < s.y + s.size; y++) {
      for (let x = s.x; x < s.x + s.size; x++) {
        const u = (x - s.x + 0.5) / s.size;
        const v = (y - s.y + 0.5) / s.size;
        const inside = s.kind === 'square' || (s.kind === 'circle' ? (u - 0.5) ** 2 + (v - 0.5) ** 2 <= 0.25 : Math.abs(u - 0.5) <= v / 2);
        if (inside) px.set(s.rgb, (y * W + x) * 3);
      }
    }
  }
  return sharp(px, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

const engineOptions = (judge: VisionJudge, family: ModelFamily = 'qwen2.5-vl'): OpenAIEngineOptions => ({
  baseUrl: judge.baseUrl, model: 'judge', family, timeoutMs: 5000, concurrency: 4, maxAnswerTokens: 4096,
  minPixels: 3136, maxPixels: 1003520, retry: { ...DEFAULT_RETRY, initialMs: 10, retries: 0 },
});
const engineFor = (judge: VisionJudge, family: ModelFamily = 'qwen2.5-vl') => new OpenAIEngine(engineOptions(judge, family));

/** Asks one question about a JPEG the way Vigil does and parses the answer into source pixels. */
async function ask(engine: OpenAIEngine, jpeg: Buffer, kind: QuestionKind, text: string, family: ModelFamily = 'qwen2.5-vl'): Promise<ParsedAnswer & { raw: string }> {
  const prepared = await prepareImage(jpeg, engine.info);
  const q = buildQuestion(kind, text, { family, sent: prepared.sent });
  const [a] = await engine.ask({ frames: [prepared.image], questions: [q] });
  if (a!.error) throw a!.error;
  return { ...parseAnswer(a!.raw, { family, sent: prepared.sent, source: prepared.source }, kind), raw: a!.raw };
}

const near = (got: number[], want: number[], tol = 3) => got.forEach((g, i) => expect(Math.abs(g - want[i]!), `${got} vs ${want}`).toBeLessThanOrEqual(tol));
const boxOf = (s: Shape) => [s.x, s.y, s.x + s.size, s.y + s.size];

describe('vision judge', () => {
  let judge: VisionJudge;
  let engine: OpenAIEngine;
  let scene: Buffer;
  beforeAll(async () => {
    judge = await startVisionJudge();
    engine = engineFor(judge);
    await engine.start();
    scene = await picture([RED, BLUE, YELLOW]);
  });
  afterAll(async () => {
    await engine?.close();
    await judge?.close();
  });

  it('boxes the red square where it was drawn, in source pixels after the grid resize', async () => {
    const a = await ask(engine, scene, 'detect', 'red square');
    expect(a.boxes).toHaveLength(1);
    expect(a.boxes[0]!.label).toBe('red square');
    const b = a.boxes[0]!;
    near([b.x1, b.y1, b.x2, b.y2], boxOf(RED));
    // The answer is in pixels of the image sent (644x364), not of the source.
    const req = judge.requests.at(-1)!;
    expect(req).toMatchObject({ kind: 'detect', images: [{ width: 644, height: 364 }], status: 200 });
  });

  it('follows the shape when it moves, and gives one box per shape', async () => {
    const moved = { ...RED, x: 400, y: 240 };
    const other = { ...RED, x: 20, y: 90, size: 40 };
    const a = await ask(engine, await picture([moved, other, BLUE]), 'detect', 'red squares');
    const boxes = a.boxes.map((b) => [b.x1, b.y1, b.x2, b.y2]).sort((p, q) => p[0]! - q[0]!);
    expect(boxes).toHaveLength(2);
    near(boxes[0]!, boxOf(other));
    near(boxes[1]!, boxOf(moved));
  });

  it('tells shapes apart by colour and by form', async () => {
    const all = await ask(engine, scene, 'detect', 'coloured shapes');
    expect(all.boxes.map((b) => b.label).sort()).toEqual(['blue circle', 'red square', 'yellow triangle']);
    near(((b) => [b.x1, b.y1, b.x2, b.y2])(all.boxes.find((b) => b.label === 'yellow triangle')!), boxOf(YELLOW));
    expect((await ask(engine, scene, 'detect', 'blue square')).boxes).toEqual([]);
    expect((await ask(engine, scene, 'detect', 'green shape')).boxes).toEqual([]);
  });

  it('answers count, point, yes/no and describe from the picture', async () => {
    const count = await ask(engine, scene, 'count', 'shapes');
    expect(count.count).toBe(3);
    expect(count.boxes).toHaveLength(3);
    expect((await ask(engine, await picture([BLUE]), 'count', 'shapes')).count).toBe(1);
    const point = await ask(engine, scene, 'point', 'blue circle');
    expect(point.points).toHaveLength(1);
    near([point.points[0]!.x, point.points[0]!.y], [BLUE.x + 40, BLUE.y + 40]);
    expect((await ask(engine, scene, 'yesno', 'Is there a blue circle?')).answer).toBe('yes');
    expect((await ask(engine, scene, 'yesno', 'Is there a blue square?')).answer).toBe('no');
    expect((await ask(engine, await picture([]), 'yesno', 'Is there a red square?')).answer).toBe('no');
    const text = (await ask(engine, scene, 'describe', 'What is in the picture?')).description ?? '';
    for (const word of ['red square', 'blue circle', 'yellow triangle']) expect(text).toContain(word);
  });

  it('judges the last frame of a clip', async () => {
    const first = await prepareImage(await picture([BLUE]), engine.info);
    const last = await prepareImage(await picture([{ ...RED, x: 300 }]), engine.info);
    const q = buildQuestion('detect', 'shape', { family: 'qwen2.5-vl', sent: last.sent, frames: 2 });
    const [a] = await engine.ask({ frames: [first.image, last.image], questions: [q] });
    const boxes = parseAnswer(a!.raw, { family: 'qwen2.5-vl', sent: last.sent, source: last.source }, 'detect').boxes;
    expect(boxes.map((b) => b.label)).toEqual(['red square']);
    near([boxes[0]!.x1, boxes[0]!.y1], [300, RED.y]);
    expect(judge.requests.at(-1)!.images).toHaveLength(2);
  });

  it('fills attributes from the shape and ignores colours named only in the attribute wording', async () => {
    const prepared = await prepareImage(scene, engine.info);
    const attributes = [{ name: 'color', type: { kind: 'enum' as const, values: ['red', 'blue', 'yellow'] } }];
    const q = buildQuestion('detect', 'shape', { family: 'qwen2.5-vl', sent: prepared.sent, attributes });
    const [a] = await engine.ask({ frames: [prepared.image], questions: [q] });
    const parsed = parseAnswer(a!.raw, { family: 'qwen2.5-vl', sent: prepared.sent, source: prepared.source, attributes }, 'detect');
    expect(parsed.boxes.map((b) => b.attributes.color).sort()).toEqual(['blue', 'red', 'yellow']);
  });

  it('reports token usage and answers in Gemini form when the schema asks for box_2d', async () => {
    const last = await engine.ask({ frames: [(await prepareImage(scene, engine.info)).image], questions: [buildQuestion('detect', 'red square', { family: 'qwen2.5-vl' })] });
    expect(last[0]!.timings.promptTokens).toBeGreaterThan(250);
    expect(last[0]!.timings.outputTokens).toBeGreaterThan(0);
    const gemini = engineFor(judge, 'gemini');
    await gemini.start();
    const a = await ask(gemini, scene, 'detect', 'red square', 'gemini');
    near(((b) => [b.x1, b.y1, b.x2, b.y2])(a.boxes[0]!), boxOf(RED), 4);
    await gemini.close();
  });

  it('waits delayMs per answer and fails while down: 503, then dropped connections, then back up', async () => {
    judge.setDelay(150);
    const t0 = performance.now();
    await ask(engine, scene, 'yesno', 'Is there a red square?');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    judge.setDelay(0);
    judge.down();
    await expect(ask(engine, scene, 'detect', 'red square')).rejects.toMatchObject({ code: 'REMOTE_ERROR', message: expect.stringContaining('503') });
    expect(judge.requests.at(-1)).toMatchObject({ status: 503, answer: null });
    judge.down('drop');
    await expect(ask(engine, scene, 'detect', 'red square')).rejects.toMatchObject({ code: 'REMOTE_ERROR' });
    expect(judge.requests.at(-1)!.status).toBe('dropped');
    judge.up();
    expect((await ask(engine, scene, 'detect', 'red square')).boxes).toHaveLength(1);
  });

  it('holds requests unanswered while hung, so clients time out; up() releases them', async () => {
    const impatient = new OpenAIEngine({ ...engineOptions(judge), timeoutMs: 300 });
    await impatient.start();
    judge.down('hang');
    await expect(ask(impatient, scene, 'detect', 'red square')).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(judge.requests.at(-1)!.status).toBe('held');
    const heldBefore = judge.requests.filter((r) => r.status === 'held').length;
    const waiting = ask(engine, scene, 'detect', 'red square');
    // Released only once the judge holds it (a loaded machine may take a while to send it).
    while (judge.requests.filter((r) => r.status === 'held').length === heldBefore) await new Promise((r) => setTimeout(r, 20));
    judge.up();
    await expect(waiting).rejects.toMatchObject({ message: expect.stringContaining('503') });
    expect((await ask(engine, scene, 'detect', 'red square')).boxes).toHaveLength(1);
    await impatient.close();
  });
});
