// The native grammar sampler skips most of the vocabulary on a rejected step (it rules tokens out by their
// first bytes and asks the grammar about the rest best first). That shortcut must never change the answer:
// its pick must be the token a full-vocabulary grammar pass picks. Checked natively (sampler-check.cpp) on
// Qwen's real vocabulary size with random logits, where the unconstrained best token is almost always rejected.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getLlama } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { writeQwen25VLPair, TINY_SHAPES } from '../fixtures/gguf/index.ts';
import { buildSamplerCheck, cpuBins } from '../support/llama-tools.ts';
import { bridgeGrammar } from '../../pipelines/engine/grammar.ts';
import { TMP } from './helpers.ts';

const SCHEMA = {
  type: 'object',
  properties: { answer: { enum: ['yes', 'no', 'unsure'] }, count: { type: 'integer' }, reason: { type: 'string', maxLength: 12 } },
  required: ['answer', 'count', 'reason'],
  additionalProperties: false,
};

describe('grammar sampler', () => {
  it('picks exactly the token a full-vocabulary grammar pass picks, ties and UTF-8 sequences included', async () => {
    const dir = join(TMP, 'sampler-check');
    mkdirSync(dir, { recursive: true });
    const { model } = writeQwen25VLPair(dir, { ...TINY_SHAPES, V: 151936 }, { name: 'vocab-151936' });
    const llama = await getLlama({ gpu: false, build: 'never' });
    const json = bridgeGrammar((await llama.createGrammarForJsonSchema(SCHEMA as never)).grammar);
    await llama.dispose();
    const grammars = {
      'json.gbnf': json,
      // Two-byte characters: the sampler's byte questions see UTF-8 sequences cut short.
      'utf8.gbnf': 'root ::= "é" [à-ÿ ]{1,8} "ß"\n',
      // Allows the vocabulary's " ~xyz" filler tokens, so the busy space byte's second bytes matter.
      'fillers.gbnf': 'root ::= ([ ] [~] [0-9a-z]{1,4}){1,6} [ ]? "."\n',
    };
    const files = Object.entries(grammars).map(([name, text]) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    });
    const bin = await buildSamplerCheck();
    const r = spawnSync(bin, [cpuBins(), model, '4', ...files], { encoding: 'utf8', timeout: 600_000 });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const result = JSON.parse(r.stdout.trim()) as { steps: number; rejected: number; mismatches: number };
    expect(result.mismatches, r.stderr.slice(-2000)).toBe(0);
    // The shortcut was exercised, not just the cheap accepted-best-token path.
    expect(result.rejected).toBeGreaterThan(50);
    expect(result.steps).toBeGreaterThan(result.rejected);
  }, 900_000);
});
