// The shipped config carries demo rules for the demo camera; they validate, and cameras given with --camera (which
// replace the file's) take the demo rules with them instead of failing the start on "unknown camera demo".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/load.ts';

describe('demo rules', () => {
  let dir: string;
  beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), 'vigil-demo-rules-'))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('ship with the default config, one per answer shape, all watching the demo camera', () => {
    const cfg = loadConfig({ file: 'config/vigil.yaml' });
    expect(cfg.rules.map((r) => [r.id, r.kind, r.cameras])).toEqual([
      ['demo-red-circle', 'detect', ['demo']],
      ['demo-blue-square', 'yesno', ['demo']],
      ['demo-all-shapes', 'count', ['demo']],
      ['demo-yellow-triangle', 'point', ['demo']],
    ]);
    expect(cfg.rules.every((r) => r.enabled)).toBe(true);
  });

  it('drop out when --camera replaces the demo camera, and stay when it is given again', () => {
    const gate = loadConfig({ file: 'config/vigil.yaml', overrides: { cameras: [{ id: 'gate', source: 'rtsp://127.0.0.1:1/x' }] } });
    expect(gate.cameras.map((c) => c.id)).toEqual(['gate']);
    expect(gate.rules).toEqual([]);
    const demo = loadConfig({ file: 'config/vigil.yaml', overrides: { cameras: [{ id: 'demo', source: 'testsrc' }] } });
    expect(demo.rules).toHaveLength(4);
  });

  it('keeps rules for "all" cameras or for a camera still there, and still refuses a rule naming a missing one', async () => {
    const file = join(dir, 'vigil.yaml');
    await writeFile(
      file,
      [
        'cameras:', '  - { id: a, source: testsrc }', '  - { id: b, source: testsrc }',
        'rules:',
        '  - { id: everywhere, kind: yesno, question: Is there smoke? }',
        '  - { id: only-a, cameras: [a], kind: detect, question: person }',
        '  - { id: a-and-b, cameras: [a, b], kind: detect, question: person }',
      ].join('\n'),
    );
    const cfg = loadConfig({ file, overrides: { cameras: [{ id: 'gate', source: 'testsrc' }] } });
    expect(cfg.rules.map((r) => r.id)).toEqual(['everywhere']);
    // a-and-b still watches b, so it stays and its missing camera is reported at its place in the file.
    expect(() => loadConfig({ file, overrides: { cameras: [{ id: 'b', source: 'testsrc' }] } })).toThrow(/rules\[2\]\.cameras\[0\]: unknown camera "a"/);
    expect(loadConfig({ file }).rules).toHaveLength(3);
  });
});
