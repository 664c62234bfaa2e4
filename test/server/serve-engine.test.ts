// `vigil serve` and its vision engine, as a user meets them: the default model pulled on first start with
// progress (terminal and /api/health) from a local mirror serving a generated random-weight pair, a pull cut
// by a kill resumed on the next start, the engine's later life (worker crash, restart) in /api/health, no
// worker left after SIGTERM; and with no model and no network, video runs and health says what to do.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODEL } from '../../pipelines/engine/models.ts';
import type { VigilConfigInput } from '../../config/schema.ts';
import { startFileServer, type FileServer } from '../support/file-server.ts';
import { alive, TMP, tinyPair } from '../engine/helpers.ts';
import { TINY_SHAPES, writeQwen25VLPair, type ModelPair } from '../fixtures/gguf/index.ts';
import { childPids, engineWorkerPid, poll, startVigil, type VigilProcess } from '../support/vigil-process.ts';

const SLOW = { timeout: 180_000 };
const LOCAL = { gpu: 'cpu', threads: 1, contextSize: 1024, maxAnswerTokens: 64 } as const;
const ONE_RULE = [{ id: 'anyone', kind: 'yesno', question: 'Is anyone in the picture?' }] as const;

let pair: ModelPair;
/** A text model past the downloader's 5 MB chunk (only whole chunks reach the disk): a kill can leave a partial. */
let bigPair: ModelPair;
let mirror: FileServer | undefined;
const running: VigilProcess[] = [];
const dirs: string[] = [];

function rangeLength(range: string): number {
  const [, a, b] = /^bytes=(\d+)-(\d+)$/.exec(range)!;
  return Number(b) - Number(a) + 1;
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vigil-serve-engine-'));
  dirs.push(d);
  return d;
}

async function vigil(dir: string, config: VigilConfigInput, env: Record<string, string> = {}): Promise<VigilProcess> {
  const v = await startVigil(dir, config, env);
  running.push(v);
  return v;
}

beforeAll(() => {
  pair = tinyPair('serve-engine'); // generated once for the file
  bigPair = writeQwen25VLPair(join(TMP, 'serve-pull'), { ...TINY_SHAPES, layers: 4, F: 4096 }, { name: 'serve-pull' });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((v) => v.stop('SIGKILL')));
  await mirror?.close();
  mirror = undefined;
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('vigil serve: the engine in the background', SLOW, () => {
  it('pulls the default model on first start with progress; a pull cut by a kill resumes on the next start; the engine becomes ready', async () => {
    mirror = await startFileServer({ [DEFAULT_MODEL.model]: bigPair.model, [DEFAULT_MODEL.mmproj]: bigPair.mmproj }, { bytes: 32 * 1024, everyMs: 20 });
    const dir = tempDir();
    const modelsDir = join(dir, 'models');
    const config: VigilConfigInput = { engine: { local: { ...LOCAL, modelsDir } }, rules: [...ONE_RULE] };
    const env = { VIGIL_MODELS_BASE_URL: mirror.baseUrl };

    const first = await vigil(dir, config, env);
    // Health shows the pull with its bytes while the server already answers.
    const pulling = await poll(async () => {
      const h = await first.health();
      return h.engine.state === 'pulling' && h.engine.pull && h.engine.pull.bytes > 64 * 1024 ? h.engine : null;
    }, 60_000, 'health to show the pull under way');
    expect(pulling.pull!.file).toContain(DEFAULT_MODEL.model);
    expect(pulling.pull!.total).toBe(statSync(bigPair.model).size + statSync(bigPair.mmproj).size);
    expect(pulling.pull!.bytes).toBeLessThan(pulling.pull!.total!);
    // The terminal (no TTY here) gets periodic percentage lines.
    await poll(async () => /pulled \d+% \(\d+\.\d of \d+\.\d [KMG]B\)/.test(first.output()), 20_000, 'a progress line');
    expect(first.output()).toMatch(/pulling the default model/);

    // Killed mid-pull, once a chunk of the model is on disk (the downloader writes whole 5 MB chunks into
    // <file>.ipull): the partial stays, never taken for a model.
    const partial = join(modelsDir, `${DEFAULT_MODEL.model}.ipull`);
    await poll(async () => existsSync(partial) && statSync(partial).size >= 5 * 1024 * 1024, 60_000, 'a chunk of the model on disk');
    await first.stop('SIGKILL');
    expect(readdirSync(modelsDir).some((f) => f.endsWith('.ipull'))).toBe(true);
    expect(existsSync(join(modelsDir, DEFAULT_MODEL.model))).toBe(false);
    const before = mirror.gets.length;

    mirror.setThrottle(undefined);
    const second = await vigil(dir, config, env);
    const ready = await poll(async () => {
      const h = await second.health();
      return h.engine.state === 'ready' ? h.engine : null;
    }, 120_000, 'the engine to become ready after the resumed pull');
    expect(ready).toMatchObject({ kind: 'local', model: DEFAULT_MODEL.model, device: 'cpu' });
    expect(ready.error).toBeUndefined();
    expect(ready.pull).toBeUndefined();
    // The next start asked only for what was missing: Range requests covering less than the whole model.
    const asked = mirror.gets.slice(before).filter((g) => g.path === `/${DEFAULT_MODEL.model}` && g.range).map((g) => rangeLength(g.range!));
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.reduce((a, b) => a + b, 0)).toBeLessThan(statSync(bigPair.model).size);
    expect(readdirSync(modelsDir).filter((f) => f.endsWith('.gguf')).sort()).toEqual([DEFAULT_MODEL.mmproj, DEFAULT_MODEL.model].sort());
    expect(await second.stop()).toBe(0);
  });

  it('on a terminal (a pty from script(1)), the pull draws a progress bar instead of percentage log lines', async () => {
    mirror = await startFileServer({ [DEFAULT_MODEL.model]: bigPair.model, [DEFAULT_MODEL.mmproj]: bigPair.mmproj }, { bytes: 256 * 1024, everyMs: 20 });
    const dir = tempDir();
    const file = join(dir, 'vigil.yaml');
    writeFileSync(file, stringify({ server: { port: 0, dataDir: join(dir, 'data') }, engine: { local: { ...LOCAL, modelsDir: join(dir, 'models') } }, rules: [...ONE_RULE] }));
    // CI=false: under CI (the CI runner sets CI=true) node-llama-cpp and ipull draw CI-style log lines instead of a bar.
    // `exec`: the Vigil process is script's own child, so the test can stop it like a user's Ctrl-C would.
    const cmd = `exec ${process.execPath} bin/vigil.mjs serve --config ${file}`;
    const tty = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VIGIL_MODELS_BASE_URL: mirror.baseUrl, VITEST: '', CI: 'false' } });
    tty.on('error', () => {});
    let out = '';
    tty.stdout!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((done) => tty.once('exit', (code) => done(code)));
    try {
      await poll(async () => /pulled the default model \(/.test(out), 60_000, 'the pull to finish');
      expect(out).toMatch(/\d+\.\d%/); // the bar's percentage
      expect(out).toMatch(/downloaded [\d.]+[kM]B/);
      expect(out).not.toMatch(/pulled \d+% \(/);
    } finally {
      const node = childPids(tty.pid!)[0];
      if (node) process.kill(node, 'SIGINT');
      else tty.kill('SIGKILL');
      await exited;
    }
  });

  it('health follows the engine: a killed worker shows as restarting with the error, then ready; SIGTERM leaves no worker', async () => {
    const dir = tempDir();
    const v = await vigil(dir, { engine: { local: { ...LOCAL, model: pair.model, mmproj: pair.mmproj } }, rules: [...ONE_RULE] });
    await poll(async () => (await v.health()).engine.state === 'ready', 120_000, 'the engine to be ready');
    const worker = engineWorkerPid(v.proc.pid!);
    expect(worker).toBeDefined();
    process.kill(worker!, 'SIGKILL');
    const restarting = await poll(async () => {
      const h = await v.health();
      return h.engine.state === 'restarting' ? h.engine : null;
    }, 30_000, 'health to show the restart', 20);
    expect(restarting.error).toMatchObject({ code: 'ENGINE_DIED', hint: expect.stringMatching(/restarts by itself/) });
    await poll(async () => (await v.health()).engine.state === 'ready', 120_000, 'ready again after the restart');
    const again = engineWorkerPid(v.proc.pid!);
    expect(again).toBeDefined();
    expect(again).not.toBe(worker);
    expect(await v.stop('SIGTERM')).toBe(0);
    await poll(async () => !alive(again!), 5_000, 'the worker to exit with the server');
  });

  it('no model and no network: cameras live; health and the terminal say MODEL_MISSING and what to do; no retry loop', async () => {
    const dir = tempDir();
    const modelsDir = join(dir, 'empty-models');
    const v = await vigil(
      dir,
      {
        engine: { local: { ...LOCAL, modelsDir } },
        cameras: [{ id: 'demo', source: 'testsrc', sampleInterval: 1 }],
        rules: [...ONE_RULE],
      },
      { VIGIL_MODELS_BASE_URL: 'http://127.0.0.1:9/unreachable' },
    );
    const failed = await poll(async () => {
      const h = await v.health();
      return h.engine.state === 'failed' ? h.engine : null;
    }, 60_000, 'the engine to fail');
    expect(failed.kind).toBe('local');
    expect(failed.error?.code).toBe('MODEL_MISSING');
    expect(failed.error?.message).toMatch(/unreachable/);
    for (const step of ['vigil models pull', modelsDir, 'engine.local.model', 'engine.local.mmproj', 'engine.kind: openai', 'restart Vigil']) {
      expect(failed.error?.hint).toContain(step);
    }
    const cams = await poll(async () => {
      const list = (await (await fetch(new URL('/api/cameras', v.url))).json()) as { id: string; state: string }[];
      return list.find((c) => c.id === 'demo' && c.state === 'live') ? list : null;
    }, 60_000, 'the camera to be live');
    expect(cams).toHaveLength(1);
    expect(v.output()).toMatch(/the vision engine could not start \[MODEL_MISSING\]/);
    expect(v.output()).toMatch(/what to do: Run `vigil models pull`/);
    // A failed pull is not retried by itself: still failed, still one report.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await v.health()).engine.state).toBe('failed');
    expect(v.output().match(/could not start \[MODEL_MISSING\]/g)).toHaveLength(1);
    expect(await v.stop()).toBe(0);
  });

  it('no enabled rule: the engine stays idle (nothing pulled, nothing loaded)', async () => {
    const dir = tempDir();
    const modelsDir = join(dir, 'models');
    const v = await vigil(dir, { engine: { local: { ...LOCAL, modelsDir } }, rules: [{ ...ONE_RULE[0], enabled: false }] }, { VIGIL_MODELS_BASE_URL: 'http://127.0.0.1:9/unreachable' });
    await poll(async () => /the vision engine stays idle/.test(v.output()), 10_000, 'the idle notice');
    expect((await v.health()).engine).toMatchObject({ state: 'idle', kind: 'local' });
    expect(engineWorkerPid(v.proc.pid!)).toBeUndefined();
    expect(existsSync(modelsDir)).toBe(false);
    expect(await v.stop()).toBe(0);
  });
});
