// The local engine on the real stack: node-llama-cpp + the native bridge in a worker, tiny random-weight
// Qwen2.5-VL pair. Grammar-constrained decoding makes even random weights answer in schema.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEngine } from '../../pipelines/engine/local.ts';
import type { EngineQuestion } from '../../pipelines/engine/types.ts';
import { schemaViolations } from '../support/schema.ts';
import { engineOptions, frame, tinyPair } from './helpers.ts';

const QUESTIONS: EngineQuestion[] = [
  {
    id: 'count',
    prompt: 'How many people are in the image?',
    schema: { type: 'object', properties: { count: { type: 'integer' }, present: { type: 'boolean' } }, required: ['count', 'present'], additionalProperties: false },
  },
  {
    id: 'color',
    prompt: 'What color is the car?',
    schema: { type: 'object', properties: { color: { enum: ['red', 'green', 'blue'] }, note: { type: 'string', maxLength: 12 } }, required: ['color', 'note'], additionalProperties: false },
  },
  {
    id: 'boxes',
    prompt: 'Outline each helmet and output the bbox coordinates in JSON format.',
    schema: {
      type: 'object',
      properties: {
        boxes: {
          type: 'array',
          maxItems: 2,
          items: {
            type: 'object',
            properties: { bbox_2d: { type: 'array', items: { type: 'integer' }, minItems: 4, maxItems: 4 }, label: { type: 'string', maxLength: 8 } },
            required: ['bbox_2d', 'label'],
            additionalProperties: false,
          },
        },
      },
      required: ['boxes'],
      additionalProperties: false,
    },
  },
];

describe('LocalEngine (tiny Qwen2.5-VL pair)', () => {
  let engine: LocalEngine;

  beforeAll(async () => {
    const pair = tinyPair();
    engine = new LocalEngine(engineOptions(pair.model, pair.mmproj));
    await engine.start();
  });
  afterAll(() => engine?.close());

  it('fills EngineInfo for Qwen2.5-VL, with its per-ask capacity, and reports ready', () => {
    expect(engine.info).toMatchObject({ kind: 'local', family: 'qwen2.5-vl', coordinateFrame: 'pixels', gridFactor: 28, device: 'cpu', contextSize: 2048, model: 'tiny-qwen2.5-vl.gguf', maxQuestionsPerAsk: 8 });
    expect(engine.health).toMatchObject({ status: 'ready', restarts: 0 });
  });

  it('answers three questions with different schemas about one frame, each valid against its schema, with one image encode', async () => {
    const before = (await engine.workerStats())!;
    const answers = await engine.ask({ frames: [await frame()], questions: QUESTIONS });
    const after = (await engine.workerStats())!;
    expect(answers.map((a) => a.questionId)).toEqual(['count', 'color', 'boxes']);
    for (const [i, a] of answers.entries()) {
      expect(a.error, `${a.questionId}: ${a.raw}`).toBeUndefined();
      expect(a.truncated).toBe(false);
      expect(a.value).toEqual(JSON.parse(a.raw));
      expect(schemaViolations(a.value, QUESTIONS[i]!.schema), a.raw).toEqual([]);
      expect(a.timings.outputTokens).toBeGreaterThan(0);
      expect(a.timings.promptTokens).toBeGreaterThan(40); // template + 48 image tokens + question
    }
    // Counted by the native bridge: one bridge call and one image encode for all three questions.
    expect(after.asks - before.asks).toBe(1);
    expect(after.encodes - before.encodes).toBe(1);
    expect(after.phase).toBe('idle');
  });

  it('encodes each frame of a clip once, whatever the number of questions', async () => {
    const before = (await engine.workerStats())!;
    await engine.ask({ frames: [await frame(), await frame(112, 112)], questions: QUESTIONS.slice(0, 2) });
    const after = (await engine.workerStats())!;
    expect(after.encodes - before.encodes).toBe(2);
  });

  it("one question's failure is its own answer's error; the others still answer", async () => {
    const broken: EngineQuestion = { id: 'broken', prompt: 'Anything?', schema: { oneOf: [{ type: 'string' }, null] } };
    const answers = await engine.ask({ frames: [await frame()], questions: [QUESTIONS[0]!, broken, QUESTIONS[1]!] });
    expect(answers.map((a) => a.questionId)).toEqual(['count', 'broken', 'color']);
    expect(answers[1]!.error).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/grammar/) });
    expect(answers[0]!.error).toBeUndefined();
    expect(answers[2]!.error).toBeUndefined();
    expect(schemaViolations(answers[2]!.value, QUESTIONS[1]!.schema)).toEqual([]);
  });

  it('an answer cut at the token cap says so (truncated) instead of passing for complete', async () => {
    const long: EngineQuestion = { ...QUESTIONS[2]!, maxTokens: 6 };
    const [cut, whole] = await engine.ask({ frames: [await frame()], questions: [long, QUESTIONS[0]!] });
    expect(cut).toMatchObject({ truncated: true, value: null, error: { code: 'INVALID_OUTPUT', message: expect.stringMatching(/cut at the 6-token cap/) } });
    expect(cut!.timings.outputTokens).toBe(6);
    expect(whole).toMatchObject({ truncated: false });
    expect(whole!.error).toBeUndefined();
  });

  it('survives its worker being killed mid-request: ENGINE_DIED, died + restarting events, then serves again', async () => {
    const img = await frame();
    const pid = engine.workerPid!;
    const events: string[] = [];
    const offs = [engine.on('died', (e) => void events.push(`died:${e.code}`)), engine.on('restarting', (r) => void events.push(`restarting:${r.attempt}`)), engine.on('ready', () => void events.push('ready'))];
    const inFlight = engine.ask({ frames: [img], questions: QUESTIONS });
    process.kill(pid, 'SIGKILL');
    await expect(inFlight).rejects.toMatchObject({ code: 'ENGINE_DIED' });
    await expect(inFlight).rejects.toThrow(/SIGKILL/);
    const again = await engine.ask({ frames: [img], questions: QUESTIONS.slice(0, 1) });
    expect(engine.workerPid).not.toBe(pid);
    expect(schemaViolations(again[0]!.value, QUESTIONS[0]!.schema)).toEqual([]);
    expect(events).toEqual(['died:ENGINE_DIED', 'restarting:1', 'ready']);
    expect(engine.health).toMatchObject({ status: 'ready', lastError: { code: 'ENGINE_DIED' } });
    offs.forEach((off) => off());
  });

  it('drops aborted work that has not started (ABORTED) and keeps serving', async () => {
    const img = await frame();
    const before = new AbortController();
    before.abort();
    await expect(engine.ask({ frames: [img], questions: QUESTIONS, signal: before.signal })).rejects.toMatchObject({ code: 'ABORTED' });

    const first = engine.ask({ frames: [img], questions: QUESTIONS });
    const queued = new AbortController();
    const second = engine.ask({ frames: [img], questions: QUESTIONS, signal: queued.signal });
    queued.abort();
    await expect(second).rejects.toMatchObject({ code: 'ABORTED', message: expect.stringMatching(/before it started/) });
    expect((await first).length).toBe(3);
  });

  it('queues asks without a bound of its own (the caller schedules) and refuses more questions than maxQuestionsPerAsk', async () => {
    const img = await frame();
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => engine.ask({ frames: [img], questions: QUESTIONS.slice(0, 1) })));
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(6);
    const nine = Array.from({ length: 9 }, (_, i) => ({ ...QUESTIONS[0]!, id: `q${i}` }));
    await expect(engine.ask({ frames: [img], questions: nine })).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/at most 8/) });
    await expect(engine.ask({ frames: [img], questions: nine.slice(0, 8) })).resolves.toHaveLength(8);
  });
});
