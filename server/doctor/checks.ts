// `vigil doctor` checks: each a small function that says what it found, or what is missing AND how
// to fix it. Other stages add their own checks to the list (see defaultChecks).
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { VigilConfig } from '../../config/schema.ts';
import { resolveModelFiles } from '../../pipelines/engine/models.ts';
import { NATIVE_DIR } from '../../pipelines/engine/bridge.ts';
import type { EngineError } from '../../pipelines/engine/types.ts';
import { ffmpegVersionCheck, transcodeCheck } from './ingest-checks.ts';

const run = promisify(execFile);

export interface CheckResult {
  ok: boolean;
  /** What was found (version, path) or what is wrong. */
  detail: string;
  /** How to fix it; required when !ok. */
  fix?: string;
}

export interface DoctorContext {
  config: Readonly<VigilConfig>;
  /** Set when the config file did not validate (the checks then run against defaults). */
  configError: string | null;
  clientDir: string;
}

export interface Check {
  name: string;
  /** A failed required check makes `vigil doctor` exit with code 1. */
  required: boolean;
  run(ctx: DoctorContext): Promise<CheckResult>;
}

const APT_FFMPEG = 'sudo apt-get install ffmpeg (or set ingest.ffmpegPath to an ffmpeg build)';

async function versionOf(bin: string): Promise<{ version: string; path: string } | null> {
  try {
    const { stdout } = await run(bin, ['-hide_banner', '-version'], { timeout: 10_000 });
    const version = /version\s+(\S+)/.exec(stdout)?.[1] ?? 'unknown version';
    return { version, path: bin.includes('/') ? resolve(bin) : await which(bin) };
  } catch {
    return null;
  }
}

async function which(bin: string): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir || '.', bin);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return bin;
}

/** Names listed by `ffmpeg -encoders|-filters|-muxers` (second column of each entry line). */
async function ffmpegList(ffmpeg: string, kind: 'encoders' | 'filters' | 'muxers'): Promise<Set<string>> {
  const { stdout } = await run(ffmpeg, ['-hide_banner', `-${kind}`], { timeout: 10_000, maxBuffer: 4 << 20 });
  const names = new Set<string>();
  for (const line of stdout.split('\n')) {
    // Entry lines are a flags column then the name; legend lines have "=" where the name would be.
    const m = /^\s*[A-Z.|]{1,8}\s+([\w,-]+)\s/.exec(line);
    if (m?.[1]) for (const n of m[1].split(',')) names.add(n);
  }
  return names;
}

export const configCheck: Check = {
  name: 'config',
  required: true,
  async run(ctx) {
    if (ctx.configError) return { ok: false, detail: ctx.configError, fix: 'correct the file (`vigil config check <file>` shows every problem; `vigil config schema` documents every field)' };
    const cams = ctx.config.cameras;
    return { ok: true, detail: `valid, ${cams.length} camera${cams.length === 1 ? '' : 's'} (${cams.map((c) => c.id).join(', ') || 'none'})` };
  },
};

const toolCheck = (name: string, pick: (c: Readonly<VigilConfig>) => string): Check => ({
  name,
  required: true,
  async run(ctx) {
    const bin = pick(ctx.config);
    const v = await versionOf(bin);
    return v ? { ok: true, detail: `${v.version} (${v.path})` } : { ok: false, detail: `"${bin}" not found or not runnable`, fix: APT_FFMPEG };
  },
});

/** ffmpeg must also be new enough (5.1+): the ingest-owned check says so, with the version it found. */
export const ffmpegCheck: Check = ffmpegVersionCheck;
export const ffprobeCheck = toolCheck('ffprobe', (c) => c.ingest.ffprobePath);

const NEEDED: Array<{ kind: 'encoders' | 'filters' | 'muxers'; names: string[] }> = [
  { kind: 'encoders', names: ['libx264', 'mjpeg'] },
  { kind: 'filters', names: ['showinfo', 'select', 'scale'] },
  { kind: 'muxers', names: ['hls', 'image2pipe'] },
];

export const ffmpegFeaturesCheck: Check = {
  name: 'ffmpeg features',
  required: true,
  async run(ctx) {
    const ffmpeg = ctx.config.ingest.ffmpegPath;
    const missing: string[] = [];
    try {
      for (const { kind, names } of NEEDED) {
        const have = await ffmpegList(ffmpeg, kind);
        for (const n of names) if (!have.has(n)) missing.push(`${kind.slice(0, -1)} ${n}`);
      }
    } catch {
      return { ok: false, detail: 'cannot list ffmpeg features (ffmpeg not runnable)', fix: APT_FFMPEG };
    }
    if (missing.length === 0) return { ok: true, detail: NEEDED.flatMap((n) => n.names).join(', ') };
    return { ok: false, detail: `missing ${missing.join(', ')}`, fix: 'install a full ffmpeg build: sudo apt-get install ffmpeg (Debian/Ubuntu builds include libx264)' };
  },
};

export const dataDirCheck: Check = {
  name: 'data directory',
  required: true,
  async run(ctx) {
    const dir = resolve(ctx.config.server.dataDir);
    const probe = join(dir, `.doctor-${process.pid}`);
    try {
      makeDirs(dir);
      writeFileSync(probe, 'ok');
      rmSync(probe);
      return { ok: true, detail: `${dir} is writable` };
    } catch (err) {
      return { ok: false, detail: `${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? err})`, fix: `fix its permissions, or choose another with server.dataDir / --data <dir>` };
    }
  },
};

/** mkdir -p one level at a time: Node's recursive mkdir can spin forever under /proc and /sys. */
function makeDirs(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) makeDirs(parent);
  mkdirSync(dir);
}

export const dashboardCheck: Check = {
  name: 'dashboard build',
  required: true,
  async run(ctx) {
    const index = join(ctx.clientDir, 'index.html');
    return existsSync(index) ? { ok: true, detail: ctx.clientDir } : { ok: false, detail: `${index} is missing`, fix: 'npm run build:client' };
  },
};

export const chromiumCheck: Check = {
  name: 'chromium (browser tests only)',
  required: false,
  async run() {
    for (const bin of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
      if (!existsSync(bin)) continue;
      try {
        const { stdout } = await run(bin, ['--version'], { timeout: 15_000 });
        return { ok: true, detail: `${stdout.trim()} (${bin})` };
      } catch {
        return { ok: true, detail: bin };
      }
    }
    return { ok: false, detail: 'Debian Chromium not found (needed only for the dashboard browser tests)', fix: 'sudo apt-get install chromium' };
  },
};

export const modelFilesCheck: Check = {
  name: 'model files',
  required: false,
  async run(ctx) {
    const e = ctx.config.engine;
    if (e.kind === 'openai') return { ok: true, detail: `engine "openai" at ${e.openai.baseUrl} (no local files needed)` };
    let files;
    try {
      files = resolveModelFiles(e.local);
    } catch (err) {
      return { ok: false, detail: (err as Error).message, fix: (err as EngineError).hint ?? 'set engine.local.model and engine.local.mmproj' };
    }
    const missing = [files.model, files.mmproj].filter((f) => !existsSync(f));
    if (missing.length === 0) return { ok: true, detail: `${files.model}, ${files.mmproj}` };
    return files.source === 'default'
      ? { ok: false, detail: `missing ${missing.join(', ')}`, fix: 'vigil models pull' }
      : { ok: false, detail: `missing ${missing.join(', ')}`, fix: 'correct engine.local.model / engine.local.mmproj' };
  },
};

/** The local engine's libmtmd bridge: `npm install` builds it but does not fail when it cannot. */
export const engineBridgeCheck: Check = {
  name: 'local engine bridge',
  required: false,
  async run(ctx) {
    if (ctx.config.engine.kind === 'openai') return { ok: true, detail: 'not needed with engine "openai"' };
    const addon = join(NATIVE_DIR, 'build', 'Release', 'vigil_mtmd_cpu.node');
    return existsSync(addon)
      ? { ok: true, detail: addon }
      : { ok: false, detail: `${addon} is missing (the build at npm install failed or was skipped)`, fix: 'npm run build:engine' };
  },
};

export function defaultChecks(): Check[] {
  return [configCheck, ffmpegCheck, ffprobeCheck, ffmpegFeaturesCheck, dataDirCheck, dashboardCheck, chromiumCheck, modelFilesCheck, engineBridgeCheck, transcodeCheck()];
}
