// The local engine on the real stack: node-llama-cpp + the native bridge in a worker, tiny random-weight
// Qwen2.5-VL pair. Grammar-constrained decoding makes even random weights answer in schema.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEngine } from '../../pipelines/engine/local.ts';
import { EngineError, type EngineQuestion } from '../../pipelines/engine/types.ts';
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

  it('fills EngineInfo for Qwen2.5-VL', () => {
    expect(engine.info).toMatchObject({ kind: 'local', family: 'qwen2.5-vl', coordinateFrame: 'pixels', gridFactor: 28, device: 'cpu', contextSize: 2048, model: 'tiny-qwen2.5-vl.gguf' });
  });

  it('answers three questions with different schemas about one frame, each valid against its schema', async () => {
    const answers = await engine.ask({ frames: [await frame()], questions: QUESTIONS });
    expect(answers.map((a) => a.questionId)).toEqual(['count', 'color', 'boxes']);
    for (const [i, a] of answers.entries()) {
      expect(a.error, `${a.questionId}: ${a.raw}`).toBeUndefined();
      expect(a.value).toEqual(JSON.parse(a.raw));
      expect(schemaViolations(a.value, QUESTIONS[i]!.schema), a.raw).toEqual([]);
      expect(a.timings.outputTokens).toBeGreaterThan(0);
      expect(a.timings.promptTokens).toBeGreaterThan(40); // template + 48 image tokens + question
    }
    // One encode and one batch for all three: the shared timings are the same object values.
    expect(new Set(answers.map((a) => a.timings.encodeMs)).size).toBe(1);
  });

  it('survives its worker being killed mid-request: ENGINE_DIED, then serves again', async () => {
    const img = await frame();
    const pid = engine.workerPid!;
    const inFlight = engine.ask({ frames: [img], questions: QUESTIONS });
    process.kill(pid, 'SIGKILL');
    await expect(inFlight).rejects.toMatchObject({ code: 'ENGINE_DIED' });
    await expect(inFlight).rejects.toThrow(/SIGKILL/);
    const again = await engine.ask({ frames: [img], questions: QUESTIONS.slice(0, 1) });
    expect(engine.workerPid).not.toBe(pid);
    expect(schemaViolations(again[0]!.value, QUESTIONS[0]!.schema)).toEqual([]);
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

  it('answers BUSY beyond its queue bound instead of queueing without limit', async () => {
    const img = await frame();
    const asks = Array.from({ length: 6 }, () => engine.ask({ frames: [img], questions: QUESTIONS.slice(0, 1) }));
    const results = await Promise.allSettled(asks);
    const busy = results.filter((r) => r.status === 'rejected' && (r.reason as EngineError).code === 'BUSY');
    expect(busy.length).toBe(2); // default bound: 4 waiting or running
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(4);
  });
});
