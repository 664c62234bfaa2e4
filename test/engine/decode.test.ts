// The native decode loop: several questions decode together in one batch, each reading its own logits row and
// sampling under its own grammar. Greedy decoding makes that checkable: each question's answer in a shared ask
// must be the answer it gets alone. Also when the suffixes together outgrow one llama_decode batch (n_batch
// 2048), so that earlier questions' logits must survive the later suffix batches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEngine } from '../../pipelines/engine/local.ts';
import type { EngineQuestion } from '../../pipelines/engine/types.ts';
import { schemaViolations } from '../support/schema.ts';
import { engineOptions, frame, tinyPair } from './helpers.ts';

const SCHEMAS = [
  { type: 'object', properties: { count: { type: 'integer' }, present: { type: 'boolean' } }, required: ['count', 'present'], additionalProperties: false },
  { type: 'object', properties: { color: { enum: ['red', 'green', 'blue'] }, note: { type: 'string', maxLength: 12 } }, required: ['color', 'note'], additionalProperties: false },
  { type: 'object', properties: { gate: { enum: ['open', 'closed'] }, why: { type: 'string', maxLength: 6 } }, required: ['gate', 'why'], additionalProperties: false },
];

const questions = (promptChars: number): EngineQuestion[] =>
  SCHEMAS.map((schema, i) => {
    const base = ['How many people are in the image?', 'What color is the car?', 'Is the gate open?'][i]!;
    const context = promptChars > 0 ? ` Context: ${'the yard camera, seen from the porch. '.repeat(Math.ceil(promptChars / 37)).slice(0, promptChars)}` : '';
    return { id: `q${i}`, prompt: base + context, schema };
  });

describe('native decode loop (tiny Qwen2.5-VL pair)', () => {
  let engine: LocalEngine;

  beforeAll(async () => {
    const pair = tinyPair('decode');
    engine = new LocalEngine(engineOptions(pair.model, pair.mmproj, { contextSize: 4096 }));
    await engine.start();
  });
  afterAll(() => engine?.close());

  async function togetherAndAlone(qs: EngineQuestion[]): Promise<void> {
    const img = await frame();
    const together = await engine.ask({ frames: [img], questions: qs });
    for (const [i, q] of qs.entries()) {
      const [alone] = await engine.ask({ frames: [img], questions: [q] });
      expect(together[i]!.error, together[i]!.raw).toBeUndefined();
      expect(schemaViolations(together[i]!.value, q.schema), together[i]!.raw).toEqual([]);
      expect(together[i]!.raw, `${q.id} together vs alone`).toBe(alone!.raw);
      expect(together[i]!.timings.outputTokens).toBe(alone!.timings.outputTokens);
    }
  }

  it('answers each of three questions in one ask exactly as it answers it alone', async () => {
    await togetherAndAlone(questions(0));
  });

  it('does the same when the three suffixes together exceed one decode batch', async () => {
    const qs = questions(800);
    const [one] = await engine.ask({ frames: [await frame()], questions: [qs[0]!] });
    expect(one!.timings.promptTokens).toBeGreaterThan(700); // about one token per character here: 3 x > 2048
    await togetherAndAlone(qs);
  });
});
