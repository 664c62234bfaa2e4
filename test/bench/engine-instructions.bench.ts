// Where a grammar-constrained decode step spends its instructions: Vigil's engine core versus llama.cpp's
// llama-mtmd-cli on the same libraries, under callgrind (instruction counts do not swing with the load of a
// shared machine the way tok/s does). Random-weight model with the tiny shapes but Qwen's real vocabulary size
// (151,936 tokens: what the sampler and grammar work over), the engine bench's image, prompt and grammar,
// one thread. Prints instructions per generated token for sampling (grammar included) and for llama_decode.
// Needs valgrind (Debian: apt-get install valgrind); without it the bench says so and skips.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cachedQwen25VLPair, TINY_SHAPES } from '../fixtures/gguf/index.ts';
import { costOf, readCallgrind, type CallgrindProfile } from '../support/callgrind.ts';
import { buildEngineDriver, buildMtmdCli, cpuBins } from '../support/llama-tools.ts';
import { answerGrammar, benchImage, MAX_TOKENS, PROMPTS } from './engine.bench.ts';

const CACHE = join(process.cwd(), 'test', '.tmp', 'bench-models');
const IMAGE_TOKENS = ['4', '64'];

function exec(cmd: string, args: string[]): Promise<string> {
  return new Promise((ok, fail) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', fail);
    p.on('exit', (code) => (code === 0 ? ok(out) : fail(new Error(`${cmd} ${args.slice(0, 4).join(' ')} failed (${code}):\n${out.slice(-3000)}`))));
  });
}

async function callgrind(outFile: string, cmd: string, args: string[]): Promise<[CallgrindProfile, string]> {
  const out = await exec('valgrind', ['--tool=callgrind', `--callgrind-out-file=${outFile}`, '--dump-line=no', cmd, ...args]);
  return [readCallgrind(outFile), out];
}

interface StepCost {
  tokens: number;
  samplePerToken: number;
  decodePerToken: number;
}

const M = (n: number) => `${(n / 1e6).toFixed(2)} M`.padStart(10);


export async function run(): Promise<void> {
  console.log('\ninstructions per generated token under callgrind: engine core vs llama-mtmd-cli (1 thread, tiny model, 151,936-token vocabulary)');
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    console.log('  skipped: valgrind is not installed (Debian: apt-get install valgrind)');
    return;
  }
  mkdirSync(CACHE, { recursive: true });
  const pair = cachedQwen25VLPair(CACHE, { ...TINY_SHAPES, V: 151936 }, 'bench-tiny-vocab');
  const image = await benchImage(CACHE);
  const grammarFile = join(CACHE, 'answer.gbnf');
  writeFileSync(grammarFile, await answerGrammar());
  const [cli, driver] = [await buildMtmdCli(), await buildEngineDriver()];
  const dir = join(process.cwd(), 'test', '.tmp');

  const [ours, ourOut] = await callgrind(join(dir, 'callgrind.engine.out'), driver, [
    cpuBins(), pair.model, pair.mmproj, image, grammarFile, PROMPTS[0]!, String(MAX_TOKENS), '1', ...IMAGE_TOKENS,
  ]);
  const answer = JSON.parse(/^\{"outputTokens".*\}$/m.exec(ourOut)?.[0] ?? '{}') as { outputTokens?: number };
  const [ref, refOut] = await callgrind(join(dir, 'callgrind.cli.out'), cli, [
    '-m', pair.model, '--mmproj', pair.mmproj, '--image', image, '-p', PROMPTS[0]!, '-n', String(MAX_TOKENS), '--temp', '0',
    '-t', '1', '-lv', '4', '--grammar-file', grammarFile, '--image-min-tokens', IMAGE_TOKENS[0]!, '--image-max-tokens', IMAGE_TOKENS[1]!,
  ]);
  const runs = Number(/\beval time =\s+[\d.]+ ms \/\s+(\d+) runs/.exec(refOut)?.[1] ?? NaN);

  // Sampling = the sampler's pick plus the grammar's accept, per sampled token (the final end token included).
  const step = (p: CallgrindProfile, sample: RegExp, accept: RegExp, loop: RegExp, tokens: number): StepCost => {
    const s = costOf(p, sample);
    const a = costOf(p, accept);
    const d = costOf(p, /^llama_decode$/, loop);
    return { tokens, samplePerToken: (s.ir + a.ir) / s.calls, decodePerToken: d.ir / d.calls };
  };
  const e = step(ours, /^vigil::GrammarSampler::sample\(/, /^vigil::GrammarSampler::accept\(/, /^vigil::Engine::decode_answers\(/, answer.outputTokens ?? NaN);
  const c = step(ref, /^common_sampler_sample\(/, /^common_sampler_accept\(/, /^(main|generate_response\(.*)$/, runs + 1);
  const row = (label: string, a: number, b: number) => console.log(`  ${label.padEnd(28)} engine ${M(a)}  cli ${M(b)}  ratio ${(b / a).toFixed(2)}x`);
  console.log('  (ratio: cli instructions / engine instructions, >= 1 means the engine does no more work)');
  row('sampling + grammar / token', e.samplePerToken, c.samplePerToken);
  row('llama_decode / token', e.decodePerToken, c.decodePerToken);
  row('step total / token', e.samplePerToken + e.decodePerToken, c.samplePerToken + c.decodePerToken);
  console.log(`  output tokens: engine ${e.tokens}, cli ${c.tokens}; whole run: engine ${M(ours.totalIr)}, cli ${M(ref.totalIr)}`);
  const check = costOf(ours, /^llama_batch_allocr::init\(/, /^llama_context::decode\(/);
  console.log(`  llama_decode: the engine's unified KV cache (questions share the image prefix) makes llama.cpp check every batch`);
  console.log(`  against all 256 sequence ids (llama_batch_allocr::init: ${M(check.ir / check.calls).trim()} a call here), a fixed cost per step.`);
}

if (process.argv[1]?.endsWith('engine-instructions.bench.ts')) await run();
