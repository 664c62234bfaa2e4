// Data flows one way: ingest -> engine -> vlm -> rules -> store -> notify -> server -> client. A module
// may import its own stage, an earlier stage, the shared leaves (pipelines/*.ts, config/) and, for the
// client, only the wire module it shares with the server. Read from the source, so a new back-edge
// fails here before it hardens into a cycle.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const STAGES = ['ingest', 'engine', 'vlm', 'rules', 'store', 'notify'] as const;

/** Rank of a repo-relative path in the flow; -1 for shared leaves and config. */
function rank(path: string): number {
  if (path.startsWith('config/')) return -1;
  const stage = /^pipelines\/([^/]+)\//.exec(path);
  if (stage) {
    const i = STAGES.indexOf(stage[1] as (typeof STAGES)[number]);
    if (i < 0) throw new Error(`${path}: unknown pipeline stage "${stage[1]}"; add it to STAGES in its place`);
    return i;
  }
  if (/^pipelines\/[^/]+\.ts$/.test(path)) return -1;
  if (path === 'server/wire.ts') return STAGES.length; // shared by server and client
  if (path.startsWith('server/')) return STAGES.length;
  if (path.startsWith('client/')) return STAGES.length + 1;
  throw new Error(`${path}: outside the staged folders`);
}

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name === 'native') return [];
    if (statSync(join(ROOT, rel)).isDirectory()) return sources(rel);
    return /\.(ts|mts|tsx)$/.test(name) && !name.endsWith('.d.ts') ? [rel] : [];
  });
}

function relativeImports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.[^'"]+)['"]/g)].map((m) => m[1]!);
  const dynamic = [...text.matchAll(/import\(\s*['"](\.[^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
  return [...specs, ...dynamic].map((s) => relative(ROOT, resolve(ROOT, dirname(file), s)));
}

function isBackEdge(file: string, target: string): boolean {
  const from = rank(file);
  const to = rank(target);
  if (file.startsWith('client/')) return !target.startsWith('client/') && target !== 'server/wire.ts';
  return from === -1 ? to !== -1 : to > from;
}

function backEdges(): string[] {
  return ['config', 'pipelines', 'server', 'client']
    .flatMap(sources)
    .flatMap((file) => relativeImports(file).filter((t) => isBackEdge(file, t)).map((t) => `${file} -> ${t}`));
}

describe('import graph', () => {
  it('runs one way: no stage imports a later stage or the server, leaves import only leaves', () => {
    expect(backEdges()).toEqual([]);
  });

  it('tells a back-edge from a forward one', () => {
    expect(isBackEdge('pipelines/ingest/supervisor.ts', 'server/log.ts')).toBe(true);
    expect(isBackEdge('pipelines/engine/openai.ts', 'pipelines/vlm/families.ts')).toBe(true);
    expect(isBackEdge('pipelines/grid.ts', 'pipelines/ingest/types.ts')).toBe(true);
    expect(isBackEdge('client/src/main.ts', 'server/app.ts')).toBe(true);
    expect(isBackEdge('pipelines/vlm/parse.ts', 'pipelines/engine/types.ts')).toBe(false);
    expect(isBackEdge('server/app.ts', 'pipelines/ingest/supervisor.ts')).toBe(false);
    expect(isBackEdge('client/src/main.ts', 'server/wire.ts')).toBe(false);
  });

  it('reads the real import statements of the tree', () => {
    expect(relativeImports('server/app.ts')).toContain('server/log.ts');
    expect(sources('pipelines/ingest')).toContain('pipelines/ingest/supervisor.ts');
  });
});
