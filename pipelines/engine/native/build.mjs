#!/usr/bin/env node
// Builds Vigil's libmtmd bridge (`npm run build:engine`, and `npm install` through the `install` script).
//   1. checks the toolchain (git, C/C++ compiler, make, python3 for node-gyp) and says what is missing;
//   2. clones the llama.cpp source bundled in the installed node-llama-cpp into llama-src/ (gitignored),
//      re-cloning when node-llama-cpp's version changes;
//   3. runs node-gyp (configure + build, object files cached in build/) for every installed prebuilt variant.
// With --install a failure prints the fix and exits 0, so the rest of Vigil still installs and runs; the local
// engine then reports "native bridge not built". VIGIL_SKIP_ENGINE_BUILD=1 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync, realpathSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { variantBins } from './gyp-info.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const installMode = process.argv.includes('--install');
const log = (msg) => console.log(`[vigil engine] ${msg}`);

class BuildError extends Error {}

function have(cmd, args = ['--version']) {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.status === 0;
}

function checkToolchain() {
  const missing = [];
  if (!have('git')) missing.push('git');
  const cxx = process.env.CXX || 'g++';
  if (!have(cxx) && !have('c++')) missing.push('a C++17 compiler (g++ or clang++)');
  if (!have(process.env.CC || 'gcc') && !have('cc')) missing.push('a C compiler (gcc or clang)');
  if (!have('make')) missing.push('make');
  if (!have('python3')) missing.push('python3 (node-gyp needs it)');
  if (missing.length) {
    throw new BuildError(
      `missing build tools: ${missing.join(', ')}.\n` +
        '  Debian/Ubuntu: sudo apt-get install -y git build-essential python3\n' +
        '  Fedora: sudo dnf install -y git gcc-c++ make python3\n' +
        '  macOS: xcode-select --install',
    );
  }
}

function nodeLlamaCpp() {
  const dir = join(root, 'node_modules', 'node-llama-cpp');
  const pkg = join(dir, 'package.json');
  if (!existsSync(pkg)) throw new BuildError('node-llama-cpp is not installed (run npm install first)');
  const version = JSON.parse(readFileSync(pkg, 'utf8')).version;
  const bundle = join(dir, 'llama', 'gitRelease.bundle');
  if (!existsSync(bundle)) throw new BuildError(`node-llama-cpp ${version} ships no llama.cpp source bundle at ${bundle}`);
  return { version, bundle };
}

function ensureSource({ version, bundle }) {
  const src = join(here, 'llama-src');
  const stamp = join(src, '.vigil-source.json');
  const want = JSON.stringify({ nodeLlamaCpp: version });
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) {
    log(`llama.cpp source for node-llama-cpp ${version}: cached in ${src}`);
    return;
  }
  log(`cloning the llama.cpp source bundled in node-llama-cpp ${version} ...`);
  rmSync(src, { recursive: true, force: true });
  rmSync(join(here, 'build'), { recursive: true, force: true }); // objects of another source version
  const r = spawnSync('git', ['-c', 'advice.detachedHead=false', 'clone', '--quiet', bundle, src], { stdio: 'inherit' });
  if (r.status !== 0) throw new BuildError(`git clone of ${bundle} failed`);
  writeFileSync(stamp, want);
}

/** node-gyp: npm passes its bundled copy to scripts; else a local install; else the one next to npm. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    process.env.npm_execpath && join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  const npm = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout?.trim();
  if (npm) candidates.push(join(dirname(realpathSync(npm)), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const found = candidates.find((c) => c && existsSync(c));
  if (!found) throw new BuildError('node-gyp not found (it ships with npm; or run: npm install -g node-gyp)');
  return found;
}

/** Node's headers: an install prefix that has them saves node-gyp a download (which fails offline). */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

function gyp(gypJs, args) {
  const r = spawnSync(process.execPath, [gypJs, ...args], { cwd: here, stdio: 'inherit', env: { ...process.env } });
  if (r.status !== 0) throw new BuildError(`node-gyp ${args[0]} failed (exit ${r.status ?? r.signal}); see the output above`);
}

function main() {
  if (process.env.VIGIL_SKIP_ENGINE_BUILD === '1') {
    log('VIGIL_SKIP_ENGINE_BUILD=1: not building the local engine bridge');
    return;
  }
  const t0 = Date.now();
  log('step 1/3: checking build tools');
  checkToolchain();
  const nlc = nodeLlamaCpp();
  log('step 2/3: llama.cpp source');
  ensureSource(nlc);
  const roles = ['cpu', 'cuda', 'vulkan'].filter((r) => variantBins(r));
  if (!roles.includes('cpu')) throw new BuildError(`node-llama-cpp has no prebuilt binaries for ${process.platform}-${process.arch}`);
  const jobs = process.env.VIGIL_BUILD_JOBS || String(Math.max(1, availableParallelism()));
  log(`step 3/3: compiling libmtmd + bridge for variants: ${roles.join(', ')} (-j${jobs}; objects cached in build/)`);
  const gypJs = nodeGyp();
  gyp(gypJs, ['configure', ...nodedirArgs()]);
  gyp(gypJs, ['build', '-j', jobs]);
  const release = join(here, 'build', 'Release');
  for (const role of roles) {
    const addon = join(release, `vigil_mtmd_${role}.node`);
    if (!existsSync(addon)) throw new BuildError(`expected ${addon} after the build`);
  }
  // Load the CPU addon once with eager binding: proves the rpath and that every symbol resolves.
  const check = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(join(release, 'vigil_mtmd_cpu.node'))})`], {
    encoding: 'utf8',
    env: { ...process.env, LD_BIND_NOW: '1' },
  });
  if (check.status !== 0) throw new BuildError(`the built addon does not load:\n${check.stderr}`);
  mkdirSync(release, { recursive: true });
  writeFileSync(join(release, 'vigil-engine.json'), JSON.stringify({ nodeLlamaCpp: nlc.version, variants: roles }, null, 2));
  log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${roles.map((r) => `vigil_mtmd_${r}.node`).join(', ')}`);
}

try {
  main();
} catch (err) {
  const msg = err instanceof BuildError ? err.message : String(err?.stack ?? err);
  console.error(`\n[vigil engine] BUILD FAILED: ${msg}`);
  console.error('[vigil engine] Fix the problem above, then run: npm run build:engine');
  if (installMode) {
    console.error('[vigil engine] Vigil itself installed fine; only the local vision engine is unavailable until then.\n');
    process.exit(0);
  }
  process.exit(1);
}
