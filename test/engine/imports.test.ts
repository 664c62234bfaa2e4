// The engine stage sits before vlm, rules and server in the one-way flow (ARCHITECTURE.md): it imports
// none of them. Read from the sources, so a new import of a later stage fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ENGINE = join(import.meta.dirname, '..', '..', 'pipelines', 'engine');

function imports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]!);
}

describe('pipelines/engine imports', () => {
  it('never reach a later stage (vlm, rules, notify, server) or the server logger', () => {
    const files = readdirSync(ENGINE).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(10);
    const bad = files.flatMap((f) => imports(join(ENGINE, f)).filter((s) => /(^|\/)(vlm|rules|notify|server)\//.test(s)).map((s) => `${f} -> ${s}`));
    expect(bad).toEqual([]);
  });
});
