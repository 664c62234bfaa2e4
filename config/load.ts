// Reads a YAML config file, merges CLI overrides, validates once against ConfigSchema, freezes the result.
import { readFileSync, existsSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ConfigSchema, CAMERA_ID, type VigilConfig, type VigilConfigInput } from './schema.ts';
import { redactUrls } from './redact.ts';

export const DEFAULT_CONFIG_FILE = 'config/vigil.yaml';

export interface ConfigIssue {
  path: string;
  reason: string;
}

/** A config that cannot be used. `message` names the file, each bad path and why. */
export class ConfigError extends Error {
  readonly code = 'VIGIL_CONFIG_INVALID';
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`${file}: invalid configuration\n` + issues.map((i) => `  - ${i.path || '(root)'}: ${i.reason}`).join('\n'));
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** YAML file; when omitted the default file is used if it exists, else built-in defaults. */
  file?: string;
  /** Applied on top of the file (CLI flags). Cameras given here replace the file's cameras. */
  overrides?: Partial<{ port: number; host: string; dataDir: string; cameras: VigilConfigInput['cameras'] }>;
}

export function loadConfig(opts: LoadOptions = {}): Readonly<VigilConfig> {
  const file = opts.file ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const raw = file ? readYaml(file) : {};
  const label = file ?? '(defaults)';
  // File index of each rule kept after --camera overrides (rules of replaced cameras drop out), for error paths.
  const keptRules: number[] = [];
  try {
    return validateConfig(applyOverrides(raw, opts.overrides, keptRules), label);
  } catch (err) {
    const flagCams = opts.overrides?.cameras;
    if (!(err instanceof ConfigError) || !flagCams?.length) throw err;
    throw blameFlags(err, flagCams, label, keptRules);
  }
}

/**
 * Cameras given with `--camera` replace the file's: their problems are the flags' fault, not the file's, so say
 * `--camera gate: source: ...` and name the file only for issues that really come from it.
 */
function blameFlags(err: ConfigError, cams: NonNullable<VigilConfigInput['cameras']>, file: string, keptRules: number[]): ConfigError {
  const issues = err.issues.map((i) => {
    const m = /^cameras\[(\d+)\]\.?(.*)$/.exec(i.path);
    const inFile = i.path.replace(/^rules\[(\d+)\]/, (all, k: string) => (keptRules[Number(k)] === undefined ? all : `rules[${keptRules[Number(k)]}]`));
    if (!m) return { ...i, path: `${file}: ${inFile || '(root)'}` };
    const id = cams[Number(m[1])]?.id ?? `#${Number(m[1]) + 1}`;
    return { ...i, path: `--camera ${id}${m[2] ? `: ${m[2]}` : ''}` };
  });
  const allFlags = issues.every((i) => i.path.startsWith('--camera'));
  return new ConfigError(allFlags ? '--camera' : `${file} and --camera`, issues);
}

export function validateConfig(raw: unknown, label = '(config)'): Readonly<VigilConfig> {
  const result = ConfigSchema.safeParse(raw ?? {});
  if (!result.success) {
    throw new ConfigError(
      label,
      result.error.issues.map((i) => ({ path: formatPath(i.path), reason: describeIssue(i) })),
    );
  }
  return deepFreeze(result.data);
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', reason: `cannot read file (${(err as NodeJS.ErrnoException).code ?? err})` }]);
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '', reason: e.message.split('\n')[0] ?? e.message })),
    );
  }
  return doc.toJS() ?? {};
}

function applyOverrides(raw: unknown, o: LoadOptions['overrides'], keptRules: number[]): unknown {
  if (!o) return raw;
  const base = (raw && typeof raw === 'object' ? { ...(raw as Record<string, unknown>) } : {}) as Record<string, any>;
  const server = { ...(base.server ?? {}) };
  if (o.port !== undefined) server.port = o.port;
  if (o.host !== undefined) server.host = o.host;
  if (o.dataDir !== undefined) server.dataDir = o.dataDir;
  base.server = server;
  if (o.cameras && o.cameras.length > 0) {
    base.cameras = o.cameras;
    if (Array.isArray(base.rules)) {
      base.rules.forEach((r: unknown, i: number) => keepsCamera(r, o.cameras!) && keptRules.push(i));
      base.rules = keptRules.map((i) => base.rules[i]);
    }
  }
  return base;
}

/**
 * Cameras given with `--camera` replace the file's; a file rule that names only cameras no longer there (the demo
 * rules watching the demo camera) goes with them instead of failing the start. Rules naming any camera still
 * there, or `all`, stay and are validated as usual.
 */
function keepsCamera(rule: unknown, cameras: NonNullable<VigilConfigInput['cameras']>): boolean {
  const named = (rule as { cameras?: unknown } | null)?.cameras;
  if (!Array.isArray(named) || named.length === 0) return true;
  const ids = new Set(cameras.map((c) => c.id));
  return named.some((id) => ids.has(id as string));
}

/** Parses a `--camera ID=URL` flag. */
export function parseCameraFlag(flag: string): { id: string; source: string } {
  const eq = flag.indexOf('=');
  const id = eq > 0 ? flag.slice(0, eq) : '';
  const source = eq > 0 ? flag.slice(eq + 1) : '';
  if (!CAMERA_ID.test(id) || !source) {
    throw new ConfigError('--camera', [{ path: redactUrls(flag), reason: 'expected ID=SOURCE, e.g. --camera gate=rtsp://user:pass@10.0.0.5/stream' }]);
  }
  return { id, source };
}

function formatPath(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : (i ? '.' : '') + String(p))).join('');
}

function describeIssue(i: { code: string; message: string; keys?: string[] }): string {
  if (i.code === 'unrecognized_keys' && i.keys) return `unknown key${i.keys.length > 1 ? 's' : ''}: ${i.keys.join(', ')}`;
  return i.message;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
