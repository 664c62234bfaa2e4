// Where the local engine's model files come from: explicit paths (config engine.local.model/mmproj or CLI
// flags) or the default Qwen2.5-VL-3B-Instruct pair, downloaded once with node-llama-cpp's downloader
// (progress, resume) into the cache dir: engine.local.modelsDir, else $VIGIL_MODELS, else ~/.cache/vigil/models.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { EngineError } from './types.ts';

export const DEFAULT_MODEL = {
  repo: 'ggml-org/Qwen2.5-VL-3B-Instruct-GGUF',
  model: 'Qwen2.5-VL-3B-Instruct-Q4_K_M.gguf',
  mmproj: 'mmproj-Qwen2.5-VL-3B-Instruct-f16.gguf',
} as const;

export interface ModelSettings {
  model?: string | undefined;
  mmproj?: string | undefined;
  modelsDir?: string | undefined;
}

export interface ModelFiles {
  model: string;
  mmproj: string;
  /** `explicit`: paths given by config or flags; `default`: the default pair in the cache dir. */
  source: 'explicit' | 'default';
  dir: string;
}

export function modelsDir(settings: ModelSettings = {}): string {
  return resolve(settings.modelsDir ?? process.env.VIGIL_MODELS ?? join(homedir(), '.cache', 'vigil', 'models'));
}

/** The files the engine will load (they may not exist yet). */
export function resolveModelFiles(settings: ModelSettings = {}): ModelFiles {
  const dir = modelsDir(settings);
  if (settings.model || settings.mmproj) {
    if (!settings.model || !settings.mmproj) {
      throw new EngineError(
        'MODEL_MISSING',
        `engine.local.${settings.model ? 'mmproj' : 'model'} is not set: a local model needs both the text model and its projector`,
        'Set both engine.local.model and engine.local.mmproj (or --model and --mmproj), or neither to use the default Qwen2.5-VL-3B pair.',
      );
    }
    return { model: resolve(settings.model), mmproj: resolve(settings.mmproj), source: 'explicit', dir };
  }
  return { model: join(dir, DEFAULT_MODEL.model), mmproj: join(dir, DEFAULT_MODEL.mmproj), source: 'default', dir };
}

/** MODEL_MISSING naming every missing file and where it must go. */
export function missingFilesError(files: ModelFiles, cause?: unknown): EngineError | undefined {
  const missing = [files.model, files.mmproj].filter((f) => !existsSync(f));
  if (missing.length === 0) return undefined;
  const hint =
    files.source === 'default'
      ? `Run \`vigil models pull\` on a machine with network access (it resumes), or download ${DEFAULT_MODEL.model} and ${DEFAULT_MODEL.mmproj} ` +
        `from https://huggingface.co/${DEFAULT_MODEL.repo}, and copy them into ${files.dir} ` +
        '(or point engine.local.modelsDir / $VIGIL_MODELS at the folder that holds them); ' +
        'or set engine.local.model and engine.local.mmproj to a Qwen2.5-VL GGUF pair you have; ' +
        'or use engine.kind: openai with an OpenAI-compatible vision endpoint. Then restart Vigil.'
      : 'Fix engine.local.model / engine.local.mmproj (or --model / --mmproj) to point at the Qwen2.5-VL GGUF and its mmproj.';
  const why = cause ? ` (download failed: ${cause instanceof Error ? cause.message : String(cause)})` : '';
  return new EngineError('MODEL_MISSING', `model file${missing.length > 1 ? 's' : ''} not found: ${missing.join(', ')}${why}`, hint, { cause });
}

export interface PullOptions {
  /** Print node-llama-cpp's progress bar (default true on a TTY). */
  showProgress?: boolean;
  onProgress?: (status: { totalSize: number; downloadedSize: number }) => void;
  /** Base URL serving the two files instead of Hugging Face ($VIGIL_MODELS_BASE_URL), e.g. a local mirror. */
  baseUrl?: string | undefined;
  /** How long to wait for the hub to answer before calling it offline (default 10 s). */
  probeTimeoutMs?: number;
  /** Aborts the download (LocalEngine.close()); the partial file stays beside the target for a resume. */
  signal?: AbortSignal;
}

/** Downloads (or resumes) the default pair into the cache dir. Throws MODEL_MISSING with the manual steps. */
export async function pullDefaultModels(settings: ModelSettings = {}, opts: PullOptions = {}): Promise<ModelFiles> {
  const files = resolveModelFiles({ modelsDir: settings.modelsDir });
  if (!missingFilesError(files)) return files;
  mkdirSync(files.dir, { recursive: true });
  const base = opts.baseUrl ?? process.env.VIGIL_MODELS_BASE_URL;
  const uri = (file: string) => (base ? `${base.replace(/\/$/, '')}/${file}` : `hf:${DEFAULT_MODEL.repo}/${file}`);
  const aborted = () => new Error(`the download was aborted${opts.signal?.reason instanceof Error ? `: ${opts.signal.reason.message}` : ''}`);
  try {
    if (opts.signal?.aborted) throw aborted();
    // Fail fast when the hub is unreachable (the downloader itself retries for minutes).
    const probeSignal = AbortSignal.any([AbortSignal.timeout(opts.probeTimeoutMs ?? 10_000), ...(opts.signal ? [opts.signal] : [])]);
    await fetch(base ?? 'https://huggingface.co', { method: 'HEAD', signal: probeSignal }).catch(
      (err: unknown) => {
        throw new Error(`${base ?? 'huggingface.co'} is unreachable (${err instanceof Error ? (err.cause as Error | undefined)?.message ?? err.message : err})`);
      },
    );
    const { createModelDownloader, combineModelDownloaders } = await import('node-llama-cpp');
    const downloaders = [DEFAULT_MODEL.model, DEFAULT_MODEL.mmproj].map((f) =>
      createModelDownloader({ modelUri: uri(f), dirPath: files.dir, fileName: f, skipExisting: true, deleteTempFileOnCancel: false }),
    );
    const combined = await combineModelDownloaders(downloaders, {
      showCliProgress: opts.showProgress ?? Boolean(process.stderr.isTTY),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    await abortable(combined.download(), opts.signal, () => combined.cancel(), aborted);
  } catch (err) {
    if (opts.signal?.aborted) throw new EngineError('ABORTED', aborted().message, 'Start the engine again to resume the download.', { cause: err });
    throw missingFilesError(files, err) ?? err;
  }
  const still = missingFilesError(files);
  if (still) throw still;
  return files;
}

/** Settles with `work`, or rejects as soon as `signal` aborts, after telling the work to stop. */
async function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined, stop: () => Promise<unknown>, reason: () => Error): Promise<T> {
  if (!signal) return work;
  let onAbort!: () => void;
  const stopped = new Promise<never>((_, reject) => {
    onAbort = () => {
      stop().catch(() => undefined);
      reject(reason());
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, stopped]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

export interface CachedFile {
  file: string;
  path: string;
  bytes: number;
  role: 'model' | 'mmproj' | 'other';
}

export function listCachedModels(settings: ModelSettings = {}): CachedFile[] {
  const dir = modelsDir(settings);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.gguf') || f.endsWith('.ipull'))
    .sort()
    .map((file) => {
      const path = join(dir, file);
      const role = file.endsWith('.gguf') ? (/mmproj/i.test(file) ? 'mmproj' : 'model') : 'other';
      return { file, path, bytes: statSync(path).size, role };
    });
}

export function displayName(path: string): string {
  return basename(path);
}
