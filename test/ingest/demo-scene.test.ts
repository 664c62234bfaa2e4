// The built-in demo camera (`source: testsrc`) shows a scene a vision model can reason about: frames sampled by the
// real supervisor, judged by the vision judge through Vigil's OpenAI engine and parser, hold each named shape where
// demoShapesAt() puts it for the frame's burned counter, plus the line of text, and keep the counter barcode.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { OpenAIEngine } from '../../pipelines/engine/openai.ts';
import { DEFAULT_RETRY } from '../../pipelines/engine/openai-http.ts';
import { DEMO_SCENE, DEMO_SHAPES, demoShapesAt } from '../../pipelines/ingest/demo-scene.ts';
import { buildQuestion, parseAnswer, type QuestionKind } from '../../pipelines/vlm/index.ts';
import { readBarcodeFromImage } from '../support/barcode.ts';
import { startVisionJudge, type VisionJudge } from '../support/vision-judge.ts';
import { makeSupervisor, nextFrames, type Harness } from './helpers.ts';
import type { Frame } from '../../pipelines/ingest/types.ts';
import { loadConfig } from '../../config/load.ts';

const compare = (a: number, op: string, b: number) => ({ '>=': a >= b, '>': a > b, '<=': a <= b, '<': a < b, '==': a === b, '!=': a !== b })[op];

describe('demo scene camera', () => {
  let dataDir: string;
  let h: Harness;
  let judge: VisionJudge;
  let engine: OpenAIEngine;
  let frames: Frame[];
  beforeAll(async () => {
    [dataDir, judge] = await Promise.all([mkdtemp(join(tmpdir(), 'vigil-demo-')), startVisionJudge()]);
    engine = new OpenAIEngine({
      baseUrl: judge.baseUrl, model: 'judge', family: 'qwen2.5-vl', timeoutMs: 5000, concurrency: 2, maxAnswerTokens: 4096,
      minPixels: 3136, maxPixels: 1003520, retry: { ...DEFAULT_RETRY, retries: 0 },
    });
    await engine.start();
    h = makeSupervisor(dataDir, { id: 'demo', source: 'testsrc', sampleInterval: 0.5 });
    h.sup.start();
    frames = await nextFrames(h.sup, 5, 30_000);
  });
  afterAll(async () => {
    await Promise.all([h?.sup.close(), engine?.close(), judge?.close()]);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function ask(f: Frame, kind: QuestionKind, text: string) {
    const sent = { width: f.width, height: f.height };
    const q = buildQuestion(kind, text, { family: 'qwen2.5-vl', sent });
    const [a] = await engine.ask({ frames: [{ jpeg: f.jpeg, width: f.width, height: f.height }], questions: [q] });
    return parseAnswer(a!.raw, { family: 'qwen2.5-vl', sent, source: { width: DEMO_SCENE.width, height: DEMO_SCENE.height } }, kind);
  }

  it('shows each named shape where demoShapesAt says for the frame counter, moving between frames', async () => {
    const lefts = new Set<number>();
    for (const f of frames) {
      const n = await readBarcodeFromImage(f.jpeg);
      expect(n).not.toBeNull();
      const want = demoShapesAt(n! / DEMO_SCENE.fps);
      const got = (await ask(f, 'detect', 'shapes')).boxes;
      expect(got.map((b) => b.label).sort(), `frame ${n}`).toEqual(want.map((w) => w.name).sort());
      for (const w of want) {
        const b = got.find((g) => g.label === w.name)!;
        [b.x1 - w.x1, b.y1 - w.y1, b.x2 - w.x2, b.y2 - w.y2].forEach((d) => expect(Math.abs(d), `frame ${n} ${w.name}`).toBeLessThanOrEqual(5));
        if (w.name === 'red circle') lefts.add(w.x1);
      }
    }
    expect(lefts.size).toBeGreaterThanOrEqual(4);
  });

  it('makes every shipped demo rule positive while all three shapes are in view', async () => {
    const f = frames.at(-1)!;
    const n = (await readBarcodeFromImage(f.jpeg))!;
    const want = demoShapesAt(n / DEMO_SCENE.fps);
    expect(want).toHaveLength(3); // the blue square is away only from 20 s to 30 s after the camera starts
    const rules = loadConfig({ file: 'config/vigil.yaml' }).rules.filter((r) => r.cameras === 'all' || r.cameras.includes('demo'));
    expect(rules.map((r) => r.kind).sort()).toEqual(['count', 'detect', 'point', 'yesno']);
    for (const r of rules) {
      const a = await ask(f, r.kind, r.question);
      const c = r.condition;
      if (r.kind === 'yesno') expect(a.answer, r.id).toBe(c.answer ?? 'yes');
      if (r.kind === 'count') expect(compare(a.count!, c.op ?? '>=', c.value ?? 1), `${r.id}: ${a.count}`).toBe(true);
      if (r.kind === 'detect') expect(a.boxes.length, r.id).toBeGreaterThanOrEqual(c.min ?? 1);
      if (r.kind === 'point') expect(a.points.length, r.id).toBeGreaterThanOrEqual(c.min ?? 1);
    }
    // And the answers follow the picture: the triangle's point sits on the triangle.
    const tri = want.find((w) => w.name === 'yellow triangle')!;
    const [p] = (await ask(f, 'point', 'yellow triangle')).points;
    expect(Math.abs(p!.x - (tri.x1 + tri.x2) / 2)).toBeLessThanOrEqual(5);
    expect((await ask(f, 'yesno', 'Is there a green square?')).answer).toBe('no');
  });

  it('draws the line of text under the barcode band and leaves the lanes below it plain', async () => {
    const { data, info } = await sharp(frames[0]!.jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const whiteShare = (y0: number, y1: number) => {
      let white = 0;
      let all = 0;
      for (let y = Math.round(y0 * info.height); y < Math.round(y1 * info.height); y++) {
        for (let x = 0; x < info.width; x++) {
          const i = (y * info.width + x) * 3;
          all++;
          if (data[i]! > 200 && data[i + 1]! > 200 && data[i + 2]! > 200) white++;
        }
      }
      return white / all;
    };
    expect(whiteShare(88 / 720, 130 / 720)).toBeGreaterThan(0.05);
    expect(whiteShare(150 / 720, 1)).toBeLessThan(0.001);
  });

  it('blinks the blue square (20 s of every 30 s) and keeps the shapes in separate lanes', () => {
    expect(demoShapesAt(5).map((s) => s.name)).toContain('blue square');
    expect(demoShapesAt(25).map((s) => s.name)).not.toContain('blue square');
    expect(demoShapesAt(35).map((s) => s.name)).toContain('blue square');
    const lanes = DEMO_SHAPES.map((s) => [s.y, s.y + s.size] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < lanes.length; i++) expect(lanes[i]![0]).toBeGreaterThanOrEqual(lanes[i - 1]![1]);
    expect(lanes[0]![0]).toBeGreaterThanOrEqual(0.2 * DEMO_SCENE.height);
    expect(lanes.at(-1)![1]).toBeLessThanOrEqual(DEMO_SCENE.height);
  });
});
