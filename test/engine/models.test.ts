// Broken, mismatched and missing model files give coded errors with hints, before any native code runs
// (so this process survives), and the offline download path names the files and where to put them.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeTextOnlyQwen2, writeTinyQwen25VL, writeTruncatedCopy, type ModelPair } from '../fixtures/gguf/index.ts';
import { loadBridge } from '../../pipelines/engine/bridge.ts';
import { bridgeGrammar } from '../../pipelines/engine/grammar.ts';
import { checkModelPair } from '../../pipelines/engine/gguf-check.ts';
import { LocalEngine } from '../../pipelines/engine/local.ts';
import { DEFAULT_MODEL, pullDefaultModels, resolveModelFiles } from '../../pipelines/engine/models.ts';
import { EngineError } from '../../pipelines/engine/types.ts';
import { engineOptions, TMP } from './helpers.ts';

const dir = join(TMP, 'broken');
let good: ModelPair;

async function startError(model: string, mmproj: string): Promise<EngineError> {
  const engine = new LocalEngine(engineOptions(model, mmproj));
  try {
    await engine.start();
  } catch (err) {
    expect(engine.workerPid).toBeUndefined(); // refused before a worker was forked
    return err as EngineError;
  } finally {
    await engine.close();
  }
  throw new Error('start() unexpectedly succeeded');
}

beforeAll(() => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  good = writeTinyQwen25VL(dir);
});

describe('model pair checks', () => {
  it('NOT_VISION_MODEL for a plain qwen2 text model', async () => {
    const e = await startError(writeTextOnlyQwen2(join(dir, 'qwen2-text.gguf')), good.mmproj);
    expect(e).toBeInstanceOf(EngineError);
    expect(e.code).toBe('NOT_VISION_MODEL');
    expect(e.message).toMatch(/"qwen2" model/);
    expect(e.hint).toMatch(/Qwen2.5-VL/);
  });

  it('NOT_VISION_MODEL when the projector is passed as the model', async () => {
    const e = await startError(good.mmproj, good.mmproj);
    expect(e.code).toBe('NOT_VISION_MODEL');
    expect(e.hint).toMatch(/Swap the paths/);
  });

  it('PROJECTOR_MISMATCH when projection_dim differs from the text width', async () => {
    const other = writeTinyQwen25VL(join(dir, 'wide'), { projectionDim: 48, name: 'wide' });
    const e = await startError(good.model, other.mmproj);
    expect(e.code).toBe('PROJECTOR_MISMATCH');
    expect(e.message).toMatch(/width 48 .* width 64/);
  });

  it('refuses a projector of another family (Qwen2-VL, 0..1000 boxes) instead of mapping its boxes as Qwen2.5-VL pixels', async () => {
    const qwen2 = writeTinyQwen25VL(join(dir, 'qwen2vl'), { projectorType: 'qwen2vl_merger', name: 'qwen2vl' });
    const e = await startError(good.model, qwen2.mmproj);
    expect(e.code).toBe('PROJECTOR_MISMATCH');
    expect(e.message).toMatch(/"qwen2vl_merger" projector from Qwen2-VL .*0\.\.1000.*Qwen2\.5-VL/);
    expect(e.hint).toMatch(/engine\.kind: openai/);
    const odd = writeTinyQwen25VL(join(dir, 'odd'), { projectorType: 'llava', name: 'odd' });
    expect((await startError(good.model, odd.mmproj)).message).toMatch(/"llava" projector; the local engine takes qwen2\.5vl_merger/);
  });

  it('derives the family and coordinate frame from the projector', async () => {
    expect(await checkModelPair(good.model, good.mmproj)).toMatchObject({ family: 'qwen2.5-vl', projectorType: 'qwen2.5vl_merger' });
  });

  it('PROJECTOR_MISMATCH when the projector is a text model', async () => {
    const e = await startError(good.model, good.model);
    expect(e.code).toBe('PROJECTOR_MISMATCH');
  });

  it('MODEL_INVALID for a truncated model and for a file that is not GGUF', async () => {
    const cut = await startError(writeTruncatedCopy(good.model, join(dir, 'cut.gguf')), good.mmproj);
    expect(cut.code).toBe('MODEL_INVALID');
    expect(cut.message).toMatch(/truncated/);
    const header = await startError(good.model, writeTruncatedCopy(good.mmproj, join(dir, 'cut-mmproj.gguf'), 0.001));
    expect(header.code).toBe('MODEL_INVALID');
    writeFileSync(join(dir, 'junk.gguf'), 'not a model');
    expect((await startError(join(dir, 'junk.gguf'), good.mmproj)).code).toBe('MODEL_INVALID');
  });

  it('a projector that crashes llama.cpp kills only the worker: MODEL_INVALID, this process lives on', async () => {
    const bad = writeTinyQwen25VL(join(dir, 'crash'), { name: 'crash', omitProjectorTensors: ['v.patch_embd.weight.1'] });
    const engine = new LocalEngine(engineOptions(bad.model, bad.mmproj));
    const err = (await engine.start().catch((e) => e)) as EngineError;
    await engine.close();
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toMatch(/worker died while loading|could not load the projector/);
    expect(process.exitCode ?? 0).toBe(0);
  });

  it('MODEL_MISSING names the missing file', async () => {
    const e = await startError(join(dir, 'nope.gguf'), good.mmproj);
    expect(e.code).toBe('MODEL_MISSING');
    expect(e.message).toContain(join(dir, 'nope.gguf'));
  });
});

describe('default model files', () => {
  it('resolve into the cache dir from config, then $VIGIL_MODELS', () => {
    expect(resolveModelFiles({ modelsDir: '/m' })).toMatchObject({ model: `/m/${DEFAULT_MODEL.model}`, mmproj: `/m/${DEFAULT_MODEL.mmproj}`, source: 'default' });
    process.env.VIGIL_MODELS = '/env-models';
    try {
      expect(resolveModelFiles({}).dir).toBe('/env-models');
    } finally {
      delete process.env.VIGIL_MODELS;
    }
    expect(() => resolveModelFiles({ model: 'a.gguf' })).toThrow(/mmproj is not set/);
  });

  it('offline: the download fails with MODEL_MISSING naming both files and the folder', async () => {
    const cache = join(dir, 'cache');
    const err = (await pullDefaultModels({ modelsDir: cache }, { baseUrl: 'http://127.0.0.1:9', showProgress: false }).catch((e) => e)) as EngineError;
    expect(err.code).toBe('MODEL_MISSING');
    expect(err.message).toContain(DEFAULT_MODEL.model);
    expect(err.message).toContain(DEFAULT_MODEL.mmproj);
    expect(err.message).toMatch(/unreachable/);
    expect(err.hint).toContain(cache);
    expect(err.hint).toContain(`huggingface.co/${DEFAULT_MODEL.repo}`);
  });

  it('a start without model files and without auto-download is MODEL_MISSING', async () => {
    const engine = new LocalEngine({ ...engineOptions('', ''), local: { ...engineOptions('', '').local, model: undefined, mmproj: undefined, modelsDir: join(dir, 'empty') } });
    await expect(engine.start()).rejects.toMatchObject({ code: 'MODEL_MISSING', hint: expect.stringContaining(join(dir, 'empty')) });
  });
});

describe('bridge and grammar plumbing', () => {
  it('a missing native build says how to build it', () => {
    expect(() => loadBridge('metal' as never)).toThrow(/native bridge not built/);
    try {
      loadBridge('metal' as never);
    } catch (e) {
      expect((e as EngineError).hint).toMatch(/npm run build:engine/);
    }
  });

  it('drops node-llama-cpp stop-trigger newlines and integer exponents from grammars', () => {
    const g = bridgeGrammar(
      'root ::= "{" integer-number-rule "}" "\\n\\n\\n\\n" [\\n]*\ninteger-number-rule ::= "-"? ("0" | [1-9] [0-9]{0,15}) ([eE] [-+]? ("0" | [1-9] [0-9]{0,15}))?',
    );
    expect(g).toBe('root ::= "{" integer-number-rule "}"\ninteger-number-rule ::= "-"? ("0" | [1-9] [0-9]{0,15})');
  });
});
