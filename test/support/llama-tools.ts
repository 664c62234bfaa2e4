// Builds llama.cpp's own `llama-mtmd-cli` and `llama-server` from the source bundled in the installed
// node-llama-cpp, against the same prebuilt libraries (libllama, libggml, libllama-common) and the libmtmd
// objects of Vigil's engine build. They serve as same-run baselines in benchmarks and as the server behind
// the OpenAI-engine tests. Binaries and objects are cached in pipelines/engine/native/build/tools (gitignored);
// a rebuild only recompiles what changed.
//
//   buildMtmdCli(): Promise<string>     path of llama-mtmd-cli
//   buildLlamaServer(): Promise<string> path of llama-server
//   buildEngineDriver(): Promise<string> path of engine-driver: one ask through Vigil's engine core without Node,
//                                        to run under callgrind next to llama-mtmd-cli (native/engine-driver.cpp)
//   buildSamplerCheck(): Promise<string> path of sampler-check: the grammar sampler against a full-vocabulary
//                                        grammar pass on random logits (native/sampler-check.cpp)
//
//   node bin/run-ts.mjs test/support/llama-tools.ts [cli|server|tests|all]   builds ahead of time (CI: `tests`,
//   niced, in the background of the suite; builders take turns through a lock in the tools folder)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const native = join(root, 'pipelines', 'engine', 'native');
const src = join(native, 'llama-src');
const out = join(native, 'build', 'tools');
const mtmdLib = join(native, 'build', 'Release', 'mtmd.a');
const coreLib = join(native, 'build', 'Release', 'vigil_core.a');

const FLAGS = [
  '-O3', '-DNDEBUG', '-std=c++17', '-fPIC', '-pthread', '-w',
  '-DLLAMA_SHARED', '-DGGML_SHARED',
  ...['include', 'ggml/include', 'common', 'tools/mtmd', 'tools/server', 'vendor', '.'].map((d) => `-I${join(src, d)}`),
  `-I${out}`,
];

/** The CPU variant's bins dir (the tools are baselines on the CPU; GPU variants are the engine's business). */
export function cpuBins(): string {
  const dir = join(root, 'node_modules', '@node-llama-cpp', `${process.platform}-${process.arch}`, 'bins', `${process.platform}-${process.arch}`);
  if (!existsSync(dir)) throw new Error(`node-llama-cpp's prebuilt CPU libraries are missing: ${dir}`);
  return dir;
}

function ensureEngineBuild(): void {
  if (existsSync(mtmdLib) && existsSync(src)) return;
  const r = spawnSync(process.execPath, [join(native, 'build.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('the engine build (npm run build:engine) failed; llama tools need its libmtmd objects');
}

function newer(target: string, deps: string[]): boolean {
  if (!existsSync(target)) return false;
  const t = statSync(target).mtimeMs;
  return deps.every((d) => statSync(d).mtimeMs <= t);
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((ok, fail) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', fail);
    p.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`${cmd} ${args.slice(-3).join(' ')} failed (${code}):\n${err.slice(-4000)}`))));
  });
}

/** Compiles sources to objects (at most `jobs` at a time), skipping up-to-date ones. */
async function compile(sources: string[], jobs = 2, extraFlags: string[] = [], headers: string[] = []): Promise<string[]> {
  mkdirSync(join(out, 'obj'), { recursive: true });
  const objs = sources.map((s) => join(out, 'obj', basename(s).replace(/\.(c|cpp)$/, '.o')));
  const todo = sources.map((s, i) => [s, objs[i]!] as const).filter(([s, o]) => !newer(o, [s, ...headers]));
  const queue = [...todo];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await run(process.env.CXX ?? 'g++', [...FLAGS, ...extraFlags, '-c', next[0], '-o', next[1]]);
  };
  await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, worker));
  return objs;
}

async function link(binary: string, objs: string[], extra: string[] = []): Promise<string> {
  const bins = cpuBins();
  const libs = ['libllama-common.so', 'libllama.v0.5.0.so', 'libggml.v0.5.0.so', 'libggml-base.so'].filter((l) => existsSync(join(bins, l)));
  // ggml_backend_load_all() looks for the backend plugins (libggml-cpu-*.so) next to the executable.
  for (const f of readdirSync(bins).filter((f) => /^libggml-(?!base).*\.so$/.test(f))) {
    if (!existsSync(join(out, f))) symlinkSync(join(bins, f), join(out, f));
  }
  if (newer(binary, [...objs, mtmdLib])) return binary;
  await run(process.env.CXX ?? 'g++', ['-o', binary, ...objs, mtmdLib, ...extra, `-L${bins}`, ...libs.map((l) => `-l:${l}`), `-Wl,-rpath,${bins}`, '-pthread']);
  return binary;
}

/** One build at a time in the tools folder: CI builds the tools in the background (`ci` below) while the tests
 *  that need them may already be asking; a second builder waits for the first and then finds everything fresh. */
async function locked<T>(build: () => Promise<T>): Promise<T> {
  mkdirSync(out, { recursive: true });
  const lock = join(out, '.lock');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (abandoned(lock)) rmSync(lock, { recursive: true, force: true });
    else await new Promise((r) => setTimeout(r, 500));
  }
  writeFileSync(join(lock, 'pid'), String(process.pid));
  try {
    return await build();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** A lock whose builder is gone (killed), or that never got its pid written within 10 s. */
function abandoned(lock: string): boolean {
  try {
    process.kill(Number(readFileSync(join(lock, 'pid'), 'utf8')), 0);
    return false;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPERM') return false;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return true;
    try {
      return Date.now() - statSync(lock).mtimeMs > 10_000;
    } catch {
      return false;
    }
  }
}

/** llama.cpp's common logger writes from a background thread and is never flushed at exit (upstream leaks it
 *  on purpose), so the CLI's closing timings get lost: flush it from an exit-time destructor. */
function writeLogFlush(): string {
  const file = join(out, 'vigil-log-flush.cpp');
  if (!existsSync(file)) {
    mkdirSync(out, { recursive: true });
    writeFileSync(file, '#include "log.h"\n__attribute__((destructor)) static void vigil_flush_log() { common_log_pause(common_log_main()); }\n');
  }
  return file;
}

/** llama.cpp's multimodal CLI (about 3 s to build once the engine is built). */
export async function buildMtmdCli(): Promise<string> {
  return locked(async () => {
    ensureEngineBuild();
    const objs = await compile([join(src, 'tools/mtmd/mtmd-cli.cpp'), writeLogFlush()]);
    return link(join(out, 'llama-mtmd-cli'), objs);
  });
}

/** The engine core's headers: a tool compiled against them is stale when one changes (class layouts). */
function nativeHeaders(): string[] {
  const dir = join(native, 'src');
  return readdirSync(dir).filter((f) => f.endsWith('.h')).map((f) => join(dir, f));
}

/** Vigil's engine core (vigil_core.a of the current engine build) behind a small command-line driver. */
export async function buildEngineDriver(): Promise<string> {
  return locked(async () => {
    ensureEngineBuild();
    const driver = join(root, 'test', 'support', 'native', 'engine-driver.cpp');
    const objs = await compile([driver], 1, [`-I${join(native, 'src')}`], nativeHeaders());
    return link(join(out, 'engine-driver'), [...objs, coreLib]);
  });
}

/** Vigil's grammar sampler (from vigil_core.a) against llama.cpp's full-vocabulary grammar pass. */
export async function buildSamplerCheck(): Promise<string> {
  return locked(async () => {
    ensureEngineBuild();
    const check = join(root, 'test', 'support', 'native', 'sampler-check.cpp');
    const objs = await compile([check], 1, [`-I${join(native, 'src')}`], nativeHeaders());
    return link(join(out, 'sampler-check'), [...objs, coreLib]);
  });
}

/** The UI assets header the server includes, generated without assets (the tests need only the API). */
function writeUiStub(): void {
  const h = join(out, 'ui.h');
  const cpp = join(out, 'ui.cpp');
  if (existsSync(h) && existsSync(cpp)) return;
  mkdirSync(out, { recursive: true });
  const fill = (t: string) =>
    t.replace(/^#cmakedefine .*$/m, '/* no UI assets */').replaceAll('@N_ASSETS@', '0').replace('@ASSET_ARRAYS@', '').replace('@ASSET_TABLE@', '').replace('@USE_GZIP@', 'false');
  writeFileSync(h, fill(readFileSync(join(src, 'tools/ui/ui.h.in'), 'utf8')));
  writeFileSync(cpp, fill(readFileSync(join(src, 'tools/ui/ui.cpp.in'), 'utf8')));
}

/** llama.cpp's HTTP server with the OpenAI-compatible API (about 50 s on 2 cores the first time). */
export async function buildLlamaServer(): Promise<string> {
  return locked(async () => {
    ensureEngineBuild();
    writeUiStub();
    const cmake = readFileSync(join(src, 'tools/server/CMakeLists.txt'), 'utf8');
    const units = [...cmake.matchAll(/^\s*([\w-]+\.cpp)\s*$/gm)].map((m) => join(src, 'tools/server', m[1]!));
    const sources = [...new Set([...units, join(src, 'tools/server/main.cpp'), join(out, 'ui.cpp')])];
    const objs = await compile(sources);
    return link(join(out, 'llama-server'), objs);
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const which = process.argv[2] ?? 'all';
  if (which === 'cli' || which === 'all') console.log(await buildMtmdCli());
  if (which === 'server' || which === 'all' || which === 'tests') console.log(await buildLlamaServer());
  if (which === 'tests' || which === 'all') console.log(await buildSamplerCheck());
}
