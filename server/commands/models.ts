// `vigil models pull | list | path`: the local engine's model files.
import { loadConfig } from '../../config/load.ts';
import { listCachedModels, missingFilesError, modelsDir, pullDefaultModels, resolveModelFiles, type ModelSettings } from '../../pipelines/engine/models.ts';
import { EngineError } from '../../pipelines/engine/types.ts';

interface Opts {
  config?: string;
  /** Explicit text model / projector (override engine.local.model / mmproj). */
  model?: string;
  mmproj?: string;
}

function settings(opts: Opts): ModelSettings {
  const local = loadConfig(opts.config ? { file: opts.config } : {}).engine.local;
  return { model: opts.model ?? local.model, mmproj: opts.mmproj ?? local.mmproj, modelsDir: local.modelsDir };
}

function fail(err: unknown): void {
  if (err instanceof EngineError) {
    process.stderr.write(`error [${err.code}]: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
    process.exitCode = 1;
    return;
  }
  throw err;
}

export async function pull(opts: Opts): Promise<void> {
  try {
    const s = settings(opts);
    const files = resolveModelFiles(s);
    if (files.source === 'explicit') {
      const missing = missingFilesError(files);
      if (missing) throw missing;
      process.stdout.write(`using configured files (nothing to download):\n  ${files.model}\n  ${files.mmproj}\n`);
      return;
    }
    process.stdout.write(`downloading the default model pair into ${files.dir} (resumes if interrupted)\n`);
    const done = await pullDefaultModels(s, { showProgress: true });
    process.stdout.write(`ready:\n  ${done.model}\n  ${done.mmproj}\n`);
  } catch (err) {
    fail(err);
  }
}

export async function list(opts: Opts): Promise<void> {
  try {
    const s = settings(opts);
    const files = listCachedModels(s);
    process.stdout.write(`${modelsDir(s)}\n`);
    if (files.length === 0) process.stdout.write('  (empty: run `vigil models pull`)\n');
    for (const f of files) process.stdout.write(`  ${f.file}  ${(f.bytes / 1e6).toFixed(1)} MB  ${f.role === 'other' ? 'partial download' : f.role}\n`);
  } catch (err) {
    fail(err);
  }
}

export async function path(opts: Opts): Promise<void> {
  try {
    const files = resolveModelFiles(settings(opts));
    const missing = missingFilesError(files);
    process.stdout.write(`model:  ${files.model}\nmmproj: ${files.mmproj}\n`);
    if (missing) process.stderr.write(`warning: ${missing.message}\nhint: ${missing.hint}\n`);
  } catch (err) {
    fail(err);
  }
}
