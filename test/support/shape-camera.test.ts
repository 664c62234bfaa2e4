// The shape camera's ground truth matches its pictures: frames pulled over RTSP by ffmpeg (two clients one after the
// other, joining a feed that kept encoding), each judged by the vision judge through Vigil's real OpenAI engine,
// give the box shapeAt() predicts for the frame's burned clock, and no box while the timeline says absent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenAIEngine } from '../../pipelines/engine/openai.ts';
import { DEFAULT_RETRY } from '../../pipelines/engine/openai-http.ts';
import { buildQuestion, parseAnswer, prepareImage } from '../../pipelines/vlm/index.ts';
import { readBarcodeFromImage } from './barcode.ts';
import { cornerAt, resolveTimeline, startShapeCamera, type ShapeCamera } from './shape-camera.ts';
import { startVisionJudge, type VisionJudge } from './vision-judge.ts';

/** Pulls `seconds` of video from an RTSP URL as JPEGs at `rate` per second (a client joining mid-stream). */
async function grab(url: string, dir: string, prefix: string, seconds: number, rate: number): Promise<Buffer[]> {
  const ff = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', url, '-t', String(seconds), '-vf', `fps=${rate}`, '-q:v', '3', join(dir, `${prefix}%03d.jpg`)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  ff.stderr.on('data', (d: Buffer) => void (err += d.toString()));
  ff.on('error', (e) => void (err += e.message));
  const code = await new Promise<number | null>((r) => ff.once('close', r));
  if (code !== 0) throw new Error(`ffmpeg grab failed (${code}): ${err}`);
  const names = (await readdir(dir)).filter((n) => n.startsWith(prefix)).sort();
  return Promise.all(names.map((n) => readFile(join(dir, n))));
}

describe('shape camera', () => {
  // Loop of 4 s: present and moving left to right for 2.5 s, then absent for 1.5 s.
  const timeline = { visible: [{ from: 0, to: 2500 }], path: [{ at: 0, x: 40, y: 120 }, { at: 2500, x: 520, y: 240 }], loopMs: 4000 };
  let cam: ShapeCamera;
  let judge: VisionJudge;
  let engine: OpenAIEngine;
  let dir: string;
  beforeAll(async () => {
    [cam, judge, dir] = await Promise.all([startShapeCamera({ colour: 'red', shape: 'square', timeline }), startVisionJudge(), mkdtemp(join(tmpdir(), 'shape-cam-'))]);
    engine = new OpenAIEngine({
      baseUrl: judge.baseUrl, model: 'judge', family: 'qwen2.5-vl', timeoutMs: 5000, concurrency: 2, maxAnswerTokens: 4096,
      minPixels: 3136, maxPixels: 1003520, retry: { ...DEFAULT_RETRY, retries: 0 },
    });
    await engine.start();
  });
  afterAll(async () => {
    await Promise.all([cam?.close(), engine?.close(), judge?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('puts the shape where shapeAt says for each frame\'s burned clock, and nowhere while absent', async () => {
    // Two clients one after the other: the feed keeps its count between them (a camera, not a file replayed).
    const first = await grab(cam.url, dir, 'a', 2.5, 5);
    const second = await grab(cam.url, dir, 'b', 2.5, 5);
    const counters = await Promise.all([first.at(-1)!, second[0]!].map((j) => readBarcodeFromImage(j)));
    expect(counters[1]!).toBeGreaterThan(counters[0]!);
    let present = 0;
    let absent = 0;
    const xs = new Set<number>();
    for (const jpeg of [...first, ...second]) {
      const truth = await cam.truthOf(jpeg);
      expect(truth.clock).not.toBeNull();
      const prepared = await prepareImage(jpeg, engine.info);
      const q = buildQuestion('detect', 'red square', { family: 'qwen2.5-vl', sent: prepared.sent });
      const [a] = await engine.ask({ frames: [prepared.image], questions: [q] });
      const boxes = parseAnswer(a!.raw, { family: 'qwen2.5-vl', sent: prepared.sent, source: prepared.source }, 'detect').boxes;
      if (!truth.box) {
        absent++;
        expect(boxes, `clock ${truth.clock}`).toEqual([]);
        continue;
      }
      present++;
      xs.add(truth.box.x1);
      expect(boxes, `clock ${truth.clock}`).toHaveLength(1);
      const got = [boxes[0]!.x1, boxes[0]!.y1, boxes[0]!.x2, boxes[0]!.y2];
      const want = [truth.box.x1, truth.box.y1, truth.box.x2, truth.box.y2];
      got.forEach((g, i) => expect(Math.abs(g - want[i]!), `clock ${truth.clock}: ${got} vs ${want}`).toBeLessThanOrEqual(4));
    }
    // 5 s over a 4 s loop: both states seen, the shape at several places.
    expect(present).toBeGreaterThanOrEqual(8);
    expect(absent).toBeGreaterThanOrEqual(3);
    expect(xs.size).toBeGreaterThanOrEqual(6);
  });

  it('scripts absent, present (standing), absent, present again, and refuses a path over the barcodes', () => {
    const tl = resolveTimeline({ visible: [{ from: 1000, to: 3000 }, { from: 5000 }], path: [{ at: 0, x: 100, y: 100 }] });
    expect([0, 999, 1000, 2999, 3000, 4999, 5000, 1e7].map((t) => cornerAt(tl, t) !== null)).toEqual([false, false, true, true, false, false, true, true]);
    expect(cornerAt(tl, 2000)).toEqual({ x: 100, y: 100 });
    const moving = resolveTimeline({ path: [{ at: 0, x: 0, y: 100 }, { at: 1000, x: 101, y: 201 }] });
    expect(cornerAt(moving, 500)).toEqual({ x: 50, y: 150 });
    expect(cornerAt(moving, 5000)).toEqual({ x: 100, y: 200 });
    const looped = resolveTimeline({ visible: [{ from: 0 }], path: [{ at: 0, x: 100, y: 100 }], loopMs: 1000 });
    expect([cornerAt(looped, -500), cornerAt(looped, 1500)]).toEqual([null, { x: 100, y: 100 }]);
    expect(() => resolveTimeline({ path: [{ at: 0, x: 0, y: 10 }] })).toThrow(/below the barcodes/);
    expect(() => resolveTimeline({ path: [{ at: 0, x: 600, y: 100 }] })).toThrow(/outside/);
  });
});
