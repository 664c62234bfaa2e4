// Answers binding.gyp's questions at configure time (gyp `<!@(node gyp-info.mjs ...)` expansions):
//   sources            mtmd translation units, read from the bundle's own tools/mtmd/CMakeLists.txt
//   has <role>         1 when node-llama-cpp's prebuilt variant for cpu|cuda|vulkan is installed, else 0
//   ldflags <role>     -L and rpath for that variant's bins directory
//   relbins <role>     that bins directory relative to build/Release (the addon's $ORIGIN)
//   libraries <role>   that variant's libllama, libggml and libggml-base
// Everything is resolved from the installed node-llama-cpp, so the addon matches the libraries it loads.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const llamaSrc = join(here, 'llama-src');
const require = createRequire(join(here, '..', '..', '..', 'package.json'));

/** Prebuilt package name of node-llama-cpp for a role on this platform. */
export function variantPackage(role) {
  const base = `${process.platform}-${process.arch}`;
  return role === 'cpu' ? base : `${base}-${role}`;
}

/** The bins directory of an installed variant, or undefined. */
export function variantBins(role) {
  const name = variantPackage(role);
  let entry;
  try {
    entry = require.resolve(`@node-llama-cpp/${name}`); // <pkg>/dist/index.js (package.json is not exported)
  } catch {
    return undefined;
  }
  const binsRoot = join(dirname(dirname(entry)), 'bins');
  if (!existsSync(binsRoot)) return undefined;
  // linux-x64-cuda-ext ships only a fallback plugin under bins/linux-x64-cuda; it is not a variant of its own.
  for (const dir of readdirSync(binsRoot)) {
    const full = join(binsRoot, dir);
    if (readdirSync(full).some((f) => /^libllama(\.[a-z]+)?\.v[\d.]+\.so$|^libllama\.so$|^libllama.*\.dylib$/.test(f))) return full;
  }
  return undefined;
}

export function variantLibs(bins) {
  const files = readdirSync(bins);
  const pick = (re) => files.find((f) => re.test(f));
  const libs = [pick(/^libllama(\.[a-z]+)?\.v[\d.]+\.so$/), pick(/^libggml(\.[a-z]+)?\.v[\d.]+\.so$/), pick(/^libggml-base\.so$/)];
  if (libs.some((l) => !l)) throw new Error(`${bins}: expected libllama, libggml and libggml-base shared libraries`);
  return libs;
}

export function mtmdSources() {
  const cmake = readFileSync(join(llamaSrc, 'tools/mtmd/CMakeLists.txt'), 'utf8');
  const block = /add_library\(mtmd\b([\s\S]*?)\)/.exec(cmake)?.[1] ?? '';
  const units = block.split(/\s+/).filter((f) => f.endsWith('.cpp')).map((f) => `llama-src/tools/mtmd/${f}`);
  if (units.length < 10) throw new Error('could not read the mtmd source list from llama-src/tools/mtmd/CMakeLists.txt');
  return [...units, 'llama-src/vendor/hash/hash.cpp', 'llama-src/vendor/hash/xxhash/xxhash.c', 'llama-src/vendor/hash/sha256/sha256.c'];
}

/** Linker flags: search path and absolute rpath (binding.gyp adds the $ORIGIN-relative one from `relbins`). */
function ldflags(role) {
  const bins = variantBins(role);
  return bins ? [`-L${bins}`, `-Wl,-rpath,${bins}`] : [];
}

/** Libraries, after the objects on the link line: the variant's libllama, libggml, libggml-base. */
function libraries(role) {
  const bins = variantBins(role);
  return bins ? variantLibs(bins).map((l) => `-l:${l}`) : [];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [cmd, role = 'cpu'] = process.argv.slice(2);
  if (cmd === 'sources') console.log(mtmdSources().join(' '));
  else if (cmd === 'has') console.log(variantBins(role) ? 1 : 0);
  else if (cmd === 'ldflags') console.log(ldflags(role).join(' '));
  else if (cmd === 'relbins') console.log(variantBins(role) ? relative(join(here, 'build', 'Release'), variantBins(role)) : '.');
  else if (cmd === 'libraries') console.log(libraries(role).join(' '));
  else {
    console.error('usage: node gyp-info.mjs sources | has <role> | ldflags <role> | libraries <role>');
    process.exit(2);
  }
}
