// Checks a text model + projector pair with node-llama-cpp's GGUF reader BEFORE anything native loads them:
// a bad file would otherwise kill the process inside llama.cpp. Pure JavaScript; safe in the main process.
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { FOREIGN_PROJECTORS, PROJECTOR_FAMILIES } from './families.ts';
import { EngineError, type ModelFamily } from './types.ts';

/** Text architectures the engine can drive; the projector type decides the family (families.ts). */
const TEXT_ARCHS = new Set(['qwen2vl']);

// Bytes per block and elements per block of the ggml types a Qwen GGUF may use (others skip the size check).
const TYPE_SIZE: Record<number, [number, number]> = {
  0: [4, 1], 1: [2, 1], 30: [2, 1], 2: [18, 32], 3: [20, 32], 6: [22, 32], 7: [24, 32], 8: [34, 32],
  10: [84, 256], 11: [110, 256], 12: [144, 256], 13: [176, 256], 14: [210, 256], 15: [292, 256],
};

export interface PairInfo {
  /** Derived from the projector type: it decides the coordinate frame and grid of the answers. */
  family: ModelFamily;
  textArch: string;
  nEmbd: number;
  projectorType: string;
  projectionDim: number;
}

type Meta = Record<string, any>;

async function readInfo(file: string, role: 'model' | 'mmproj') {
  const { readGgufFileInfo } = await import('node-llama-cpp');
  let info;
  try {
    info = await readGgufFileInfo(file, {
      logWarnings: false,
      ignoreKeys: ['tokenizer.ggml.tokens', 'tokenizer.ggml.merges', 'tokenizer.ggml.token_type'],
    });
  } catch (err) {
    throw new EngineError(
      'MODEL_INVALID',
      `${file} is not a readable GGUF file (${err instanceof Error ? err.message : String(err)})`,
      `Re-download the ${role === 'model' ? 'text model' : 'projector'}; a cut-short download or a non-GGUF file looks like this.`,
      { cause: err },
    );
  }
  // A download cut short keeps a valid header: check that every tensor's data lies inside the file.
  const size = statSync(file).size;
  let end = 0;
  for (const t of info.tensorInfo ?? []) {
    const ts = TYPE_SIZE[t.ggmlType as number];
    const n = t.dimensions.reduce<number>((a, d) => a * Number(d), 1);
    end = Math.max(end, Number(t.fileOffset) + (ts ? (n / ts[1]) * ts[0] : 1));
  }
  if (end > size) {
    throw new EngineError(
      'MODEL_INVALID',
      `${file} is truncated: its tensors need ${end} bytes, the file has ${size}`,
      `Re-download ${basename(file)} (\`vigil models pull\` resumes partial downloads).`,
    );
  }
  return info.metadata as Meta;
}

/** Throws NOT_VISION_MODEL, PROJECTOR_MISMATCH or MODEL_INVALID with a hint; returns the pair's key facts. */
export async function checkModelPair(model: string, mmproj: string): Promise<PairInfo> {
  const tm = await readInfo(model, 'model');
  const pm = await readInfo(mmproj, 'mmproj');
  const arch = String(tm.general?.architecture ?? '');
  if (arch === 'clip') {
    throw new EngineError('NOT_VISION_MODEL', `${model} is a vision projector (mmproj), not a text model`,
      'Swap the paths: engine.local.model takes the language model GGUF, engine.local.mmproj the mmproj GGUF.');
  }
  if (!TEXT_ARCHS.has(arch)) {
    throw new EngineError('NOT_VISION_MODEL',
      `${model} is a "${arch}" model; the local engine runs Qwen2.5-VL (architecture qwen2vl) with its vision projector`,
      'Use a Qwen2.5-VL GGUF (e.g. `vigil models pull`), not a text-only model such as Qwen2.5-Instruct.');
  }
  const nEmbd = Number(tm[arch]?.embedding_length);
  const pArch = String(pm.general?.architecture ?? '');
  const projectorType = String(pm.clip?.projector_type ?? '');
  if (pArch !== 'clip' || !pm.clip?.has_vision_encoder) {
    throw new EngineError('PROJECTOR_MISMATCH',
      `${mmproj} is not a vision projector (architecture "${pArch}"${pArch === 'clip' ? ', no vision encoder' : ''})`,
      'engine.local.mmproj must be the mmproj GGUF published with the model (file name usually starts with "mmproj").');
  }
  const family = Object.hasOwn(PROJECTOR_FAMILIES, projectorType) ? PROJECTOR_FAMILIES[projectorType] : undefined;
  if (!family) {
    const foreign = Object.hasOwn(FOREIGN_PROJECTORS, projectorType) ? FOREIGN_PROJECTORS[projectorType] : undefined;
    const supported = Object.keys(PROJECTOR_FAMILIES).join(', ');
    throw new EngineError('PROJECTOR_MISMATCH',
      foreign
        ? `${basename(mmproj)} is a "${projectorType}" projector from ${foreign}; the local engine runs Qwen2.5-VL (${supported}) and would map its boxes wrongly`
        : `${basename(mmproj)} is a "${projectorType}" projector; the local engine takes ${supported}`,
      foreign
        ? 'Use a Qwen2.5-VL model with its own mmproj (e.g. `vigil models pull`), or serve this model through engine.kind: openai with its family set.'
        : 'Use the mmproj from the same Hugging Face repository as the Qwen2.5-VL text model.');
  }
  const projectionDim = Number(pm.clip?.vision?.projection_dim);
  if (projectionDim !== nEmbd) {
    throw new EngineError('PROJECTOR_MISMATCH',
      `${basename(mmproj)} projects to width ${projectionDim} but ${basename(model)} has embedding width ${nEmbd}: they belong to different model sizes`,
      'Use the mmproj published with this exact model (e.g. the 3B mmproj for the 3B model).');
  }
  return { family, textArch: arch, nEmbd, projectorType, projectionDim };
}
