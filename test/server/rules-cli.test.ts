// `vigil rules list|test` as a user runs them (the real CLI in a child process): rules of the config file and of
// a real SQLite store; a rule tried through a running server and locally on an image, both through the real
// OpenAIEngine against the vision judge; invalid rule files refused with the path and the reason (exit 2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { RuleSchema } from '../../config/rule.ts';
import { validateConfig } from '../../config/load.ts';
import { createEngine } from '../../pipelines/engine/create.ts';
import type { VisionEngine } from '../../pipelines/engine/types.ts';
import { openSqliteStore, storeFileIn } from '../../pipelines/store/index.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { startVisionJudge, type VisionJudge } from '../support/vision-judge.ts';

const W = 448;
const H = 252;

function vigil(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['bin/vigil.mjs', ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function redSquare(): Promise<Buffer> {
  const square = await sharp({ create: { width: 84, height: 84, channels: 3, background: { r: 230, g: 20, b: 20 } } }).png().toBuffer();
  return sharp({ create: { width: W, height: H, channels: 3, background: { r: 90, g: 90, b: 90 } } })
    .composite([{ input: square, left: 112, top: 56 }])
    .jpeg({ quality: 92 })
    .toBuffer();
}

describe('vigil rules', () => {
  let dir: string;
  let judge: VisionJudge;
  let engine: VisionEngine;
  let s: TestServer;
  let cfg: string;
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-rules-cli-'));
    judge = await startVisionJudge();
    const dataDir = join(dir, 'data');
    cfg = file(
      'vigil.yaml',
      [
        'server:',
        `  dataDir: ${dataDir}`,
        'engine:',
        '  kind: openai',
        '  openai:',
        `    baseUrl: ${judge.baseUrl}`,
        '    retries: 0',
        'cameras:',
        '  - {id: front, source: testsrc}',
        '  - {id: yard, source: testsrc}',
        'rules:',
        '  - {id: gate, kind: yesno, question: "Is there a blue circle?", cameras: [front]}',
        '  - {id: quiet, kind: describe, question: "What happens?", enabled: false}',
        '',
      ].join('\n'),
    );
    // The store as a Vigil that ran with this file and took one rule through the API leaves it.
    const store = await openSqliteStore({ file: storeFileIn(dataDir), dataDir });
    await store.rules.syncProvisioned([RuleSchema.parse({ id: 'gate', kind: 'yesno', question: 'Is there a blue circle?', cameras: ['front'] })]);
    await store.rules.save(RuleSchema.parse({ id: 'red-car', kind: 'detect', question: 'red cars', cameras: ['yard'] }), 'api', 'test');
    await store.close();

    const config = { cameras: [{ id: 'front', source: 'testsrc' }], engine: { kind: 'openai' as const, openai: { baseUrl: judge.baseUrl, retries: 0 } } };
    engine = await createEngine(validateConfig(config).engine);
    await engine.start();
    s = await startTestServer(config, { visionEngine: engine });
    s.fakes.get('front')!.emitFrame(Date.now(), { jpeg: await redSquare(), width: W, height: H, sourceW: W, sourceH: H });
  });
  afterAll(async () => {
    await s?.dispose();
    await engine?.close();
    await judge?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('list prints the config file and store rules with kind, cameras, version, source, enabled', async () => {
    const [table, json] = await Promise.all([vigil('rules', 'list', '-c', cfg), vigil('rules', 'list', '-c', cfg, '--json')]);
    expect(table.code, table.stderr).toBe(0);
    const rows = table.stdout.trim().split('\n').map((l) => l.split(/\s{2,}/));
    expect(rows).toEqual([
      ['ID', 'KIND', 'CAMERAS', 'VERSION', 'SOURCE', 'ENABLED'],
      ['gate', 'yesno', 'front', '1', 'config', 'yes'],
      ['quiet', 'describe', 'all', '-', 'config', 'no'],
      ['red-car', 'detect', 'yard', '1', 'api', 'yes'],
    ]);
    expect((JSON.parse(json.stdout) as Array<{ rule: { id: string; question: string } }>).map((r) => r.rule.question)).toEqual(['Is there a blue circle?', 'What happens?', 'red cars']);
  });

  it('test --rule-file against a running server prints the parsed answer and positive', async () => {
    const rule = file('red.yaml', 'id: red\nkind: detect\nquestion: red square\ncameras: [front]\n');
    const r = await vigil('rules', 'test', '--rule-file', rule, '--camera', 'front', '--url', s.url, '-c', cfg);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { positive: boolean; boxes: Array<{ x1: number; y1: number }>; camera: string };
    expect(out).toMatchObject({ positive: true, camera: 'front' });
    expect(Math.abs(out.boxes[0]!.x1 - 112)).toBeLessThanOrEqual(4);
    expect(r.stderr).toMatch(/^POSITIVE/m);
  });

  it('test --image runs locally with the configured engine and writes the annotated frame', async () => {
    const image = join(dir, 'frame.jpg');
    writeFileSync(image, await redSquare());
    const [hit, miss] = await Promise.all([
      vigil('rules', 'test', '--rule-file', file('count.yaml', 'id: count\nkind: count\nquestion: red squares\n'), '--image', image, '-c', cfg),
      vigil('rules', 'test', 'gate', '--image', image, '-c', cfg, '--out', join(dir, 'gate.jpg')),
    ]);
    expect(hit.code, hit.stderr).toBe(0);
    expect(JSON.parse(hit.stdout)).toMatchObject({ positive: true, count: 1, annotated: join(dir, 'frame.annotated.jpg') });
    expect((await sharp(join(dir, 'frame.annotated.jpg')).metadata()).format).toBe('jpeg');
    expect(miss.code, miss.stderr).toBe(0);
    expect(JSON.parse(miss.stdout)).toMatchObject({ positive: false, answer: 'no' });
    expect(existsSync(join(dir, 'gate.jpg'))).toBe(true);
  });

  it('refuses an invalid rule file with each path and reason (exit 2), and says when no server answers (exit 1)', async () => {
    const [schema, camera, noServer] = await Promise.all([
      vigil('rules', 'test', '--rule-file', file('bad.yaml', 'id: bad\nkind: classify\nquestion: ""\ntrigger: {n: 5, of: 3}\n'), '--url', s.url, '-c', cfg),
      vigil('rules', 'test', '--rule-file', file('cam.yaml', 'id: cam\nkind: detect\nquestion: cars\ncameras: [garage]\n'), '--url', s.url, '-c', cfg),
      vigil('rules', 'test', 'gate', '--url', 'http://127.0.0.1:9/', '-c', cfg),
    ]);
    expect(schema.code).toBe(2);
    expect(schema.stderr).toContain('bad.yaml: invalid rule');
    expect(schema.stderr).toMatch(/- kind: .*(detect|expected one of)/);
    expect(schema.stderr).toContain('- question: the question is empty');
    expect(camera.code).toBe(2);
    expect(camera.stderr).toContain('- cameras[0]: unknown camera "garage"');
    expect(noServer.code).toBe(1);
    expect(noServer.stderr).toMatch(/no Vigil answers at http:\/\/127\.0\.0\.1:9\/.*vigil serve.*--image/);
  });
});
