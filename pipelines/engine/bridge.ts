// Typed loader for the native libmtmd bridge (pipelines/engine/native). One addon per node-llama-cpp variant:
// the one loaded must match the variant node-llama-cpp loaded, so both share one libllama/libggml.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError } from './types.ts';

export const NATIVE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'native');
const RELEASE = join(NATIVE_DIR, 'build', 'Release');

export type BridgeVariant = 'cpu' | 'cuda' | 'vulkan';

export interface BridgeLoadOptions {
  model: string;
  mmproj: string;
  binsDir?: string;
  gpuLayers: number;
  threads: number;
  nCtx: number;
  nSeqMax: number;
  nBatch?: number;
  nUbatch?: number;
  imageMinTokens?: number;
  imageMaxTokens?: number;
  warmup?: boolean;
}

export interface BridgeQuestion {
  /** Templated text after the shared prefix, ending where the answer starts. */
  suffix: string;
  /** GBNF with a `root` rule; empty for unconstrained output. */
  grammar: string;
  maxTokens: number;
}

export interface BridgeAskResult {
  encodeMs: number;
  /** Prefill of the shared prefix, image embeddings included. */
  prefixMs: number;
  /** The image embeddings' share of prefixMs. */
  imagePrefillMs: number;
  suffixMs: number;
  decodeMs: number;
  prefixTokens: number;
  imageTokens: number;
  answers: { text: string; suffixTokens: number; outputTokens: number; stop: 'eog' | 'length' }[];
}

export interface BridgeModel {
  info(): { nCtx: number; nSeqMax: number; nEmbd: number; description: string; devices: string } | null;
  /** Encodes the images + prefix once, then decodes every question together (one sequence each).
   *  Arguments of the wrong type throw a TypeError; a call while another runs rejects. */
  ask(req: { images: Uint8Array[]; prefix: string; questions: BridgeQuestion[] }): Promise<BridgeAskResult>;
  /** Rejects while an ask runs (mtmd cannot cancel it). */
  close(): Promise<void>;
  /** Readable while an ask runs: asks and image encodes since load, and the phase of the ask in flight. */
  stats(): BridgeStats;
}

export interface BridgeStats {
  asks: number;
  encodes: number;
  phase: 'idle' | 'preparing' | 'encoding' | 'prefill' | 'decoding' | 'closed';
}

export interface Bridge {
  variant: BridgeVariant;
  /** mtmd's media marker: put one in the prefix per image. */
  marker: string;
  load(opts: BridgeLoadOptions): Promise<BridgeModel>;
  /** ggml log level for mtmd messages printed to stderr (3 warn, 4 error). */
  setLogLevel(level: number): void;
  /** Has the kernel kill this process when its parent dies (Linux PR_SET_PDEATHSIG); `ppid` as seen when armed. */
  dieWithParent(): { armed: boolean; ppid: number };
}

const notBuilt = (why: string) =>
  new EngineError('NOT_STARTED', `native bridge not built: ${why}`,
    'Run `npm run build:engine` (needs git, a C++17 compiler, make and python3) and restart Vigil.');

export function loadBridge(variant: BridgeVariant, nodeLlamaCppVersion?: string): Bridge {
  const file = join(RELEASE, `vigil_mtmd_${variant}.node`);
  if (!existsSync(file)) throw notBuilt(`${file} is missing`);
  const manifest = join(RELEASE, 'vigil-engine.json');
  if (nodeLlamaCppVersion && existsSync(manifest)) {
    const built = JSON.parse(readFileSync(manifest, 'utf8')) as { nodeLlamaCpp?: string };
    if (built.nodeLlamaCpp !== nodeLlamaCppVersion) {
      throw notBuilt(`it was built for node-llama-cpp ${built.nodeLlamaCpp}, ${nodeLlamaCppVersion} is installed`);
    }
  }
  try {
    return createRequire(import.meta.url)(file) as Bridge;
  } catch (err) {
    throw notBuilt(`${file} does not load (${err instanceof Error ? err.message : String(err)})`);
  }
}
