// Faults of the local engine with real worker processes on generated random-weight models: closes during
// start and download, asks during a failing start, sends to a dead worker (EPIPE), the worker killed in
// every phase, a worker that crashes on every ask, and the main process dying mid-ask.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalEngine } from '../../pipelines/engine/local.ts';
import { DEFAULT_MODEL } from '../../pipelines/engine/models.ts';
import type { EngineEvents, EngineQuestion } from '../../pipelines/engine/types.ts';
import { writeTinyQwen25VL } from '../fixtures/gguf/index.ts';
import { startFileServer, type FileServer } from '../support/file-server.ts';
import { alive, faultOptions, frame, LONG_ANSWER, slowEncodePair, tinyPair, TMP, until } from './helpers.ts';

const SHORT: EngineQuestion = {
  id: 'short',
  prompt: 'Is it day?',
  schema: { type: 'object', properties: { day: { type: 'boolean' } }, required: ['day'], additionalProperties: false },
};

let engine: LocalEngine | undefined;
let server: FileServer | undefined;
afterEach(async () => {
  await engine?.close();
  await server?.close();
  engine = server = undefined;
});

/** Records every engine event as a short string. */
function record(e: LocalEngine): string[] {
  const seen: string[] = [];
  e.on('ready', () => void seen.push('ready'));
  e.on('died', (f) => void seen.push(`died:${f.code}`));
  e.on('restarting', (r) => void seen.push(`restarting:${r.attempt}:${r.delayMs}`));
  e.on('closed', () => void seen.push('closed'));
  return seen;
}

function next<K extends keyof EngineEvents>(e: LocalEngine, event: K): Promise<EngineEvents[K]> {
  return new Promise((resolve) => {
    const off = e.on(event, (...args) => {
      off();
      resolve(args);
    });
  });
}

async function waitPhase(e: LocalEngine, phase: string): Promise<number> {
  let pid = 0;
  await until(async () => {
    const s = await e.workerStats();
    pid = s?.pid ?? 0;
    return s?.phase === phase;
  }, `worker phase ${phase}`);
  return pid;
}

// Every case starts real worker processes (a few seconds each on a loaded 2-core box): liveness bound only.
const SLOW = { timeout: 240_000 };

describe('LocalEngine lifecycle faults', SLOW, () => {
  it('close() during start leaves no worker behind, and start() rejects then and after', async () => {
    const e = (engine = new LocalEngine(faultOptions(tinyPair())));
    const starting = e.start();
    starting.catch(() => undefined); // asserted below
    await until(() => e.workerPid !== undefined, 'a forked worker');
    const pid = e.workerPid!;
    await e.close();
    await expect(starting).rejects.toMatchObject({ code: 'NOT_STARTED', message: expect.stringMatching(/closed while starting/) });
    expect(alive(pid)).toBe(false);
    await expect(e.start()).rejects.toMatchObject({ code: 'NOT_STARTED', message: expect.stringMatching(/closed/) });
    expect(e.workerPid).toBeUndefined();
    expect(e.state).toBe('closed');
  });

  it('close() during the model download aborts it; the partial file is never taken for a model and the next start resumes', async () => {
    const src = tinyPair('download-src');
    server = await startFileServer({ [DEFAULT_MODEL.model]: src.model, [DEFAULT_MODEL.mmproj]: src.mmproj }, { bytes: 4096, everyMs: 50 });
    const modelsDir = join(TMP, 'download-cache');
    rmSync(modelsDir, { recursive: true, force: true });
    const local = { ...faultOptions(src).local, model: undefined, mmproj: undefined, modelsDir };
    const e = (engine = new LocalEngine({ ...faultOptions(src), local, autoDownload: true, downloadBaseUrl: server.baseUrl }));
    const starting = e.start();
    starting.catch(() => undefined); // asserted below
    await until(() => [...server!.sent.values()].some((n) => n > 16_384), 'download under way');
    await e.close();
    await expect(starting).rejects.toMatchObject({ code: 'NOT_STARTED', message: expect.stringMatching(/closed while starting/) });
    await until(() => server!.aborted.length > 0, 'the server to see the download aborted', 10_000);
    expect(e.workerPid).toBeUndefined();
    expect(existsSync(join(modelsDir, DEFAULT_MODEL.model)) && existsSync(join(modelsDir, DEFAULT_MODEL.mmproj))).toBe(false);

    server.setThrottle(undefined);
    const again = (engine = new LocalEngine({ ...faultOptions(src), local, autoDownload: true, downloadBaseUrl: server.baseUrl }));
    await again.start();
    expect(readdirSync(modelsDir).sort()).toEqual([DEFAULT_MODEL.mmproj, DEFAULT_MODEL.model].sort());
    const [a] = await again.ask({ frames: [await frame()], questions: [SHORT] });
    expect(a!.error).toBeUndefined();
  });

  it('asks made while a start fails are rejected at once with the start error, not at their timeout', async () => {
    const dir = join(TMP, 'crash-start');
    mkdirSync(dir, { recursive: true });
    const bad = writeTinyQwen25VL(dir, { name: 'crash', omitProjectorTensors: ['v.patch_embd.weight.1'] });
    const e = (engine = new LocalEngine(faultOptions(bad))); // ask timeout: 600 s
    const starting = e.start();
    const asked = e.ask({ frames: [await frame()], questions: [SHORT] });
    starting.catch(() => undefined); // asserted below
    asked.catch(() => undefined);
    await expect(starting).rejects.toMatchObject({ code: 'MODEL_INVALID' });
    await expect(asked).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/could not start: the engine worker died while loading/) });
    expect(e.health).toMatchObject({ status: 'failed', lastError: { code: 'MODEL_INVALID' } });
    await expect(e.ask({ frames: [await frame()], questions: [SHORT] })).rejects.toMatchObject({ code: 'NOT_STARTED', message: /failed/ });
  });

  it('a send to a worker that just died (EPIPE) fails that ask, never this process', async () => {
    const e = (engine = new LocalEngine(faultOptions(tinyPair())));
    await e.start();
    const img = await frame();
    const pid = e.workerPid!;
    process.kill(pid, 'SIGKILL');
    // Block the event loop until the worker is surely gone, so its exit is not yet seen when ask() sends:
    // the send hits a closed pipe (EPIPE).
    const until = Date.now() + 300;
    while (Date.now() < until) {
      /* spin */
    }
    await expect(e.ask({ frames: [img], questions: [SHORT] })).rejects.toMatchObject({ code: 'ENGINE_DIED' });
    await next(e, 'ready');
    const [a] = await e.ask({ frames: [await frame()], questions: [SHORT] });
    expect(a!.error).toBeUndefined();
  });
});

describe('LocalEngine worker killed in every phase', SLOW, () => {
  it('while loading: start() says so; in a restart: another restart with a longer backoff', async () => {
    const e = (engine = new LocalEngine(faultOptions(slowEncodePair())));
    const seen = record(e);
    const starting = e.start();
    starting.catch(() => undefined); // asserted below
    const first = await waitPhase(e, 'loading');
    process.kill(first, 'SIGKILL');
    await expect(starting).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/died while loading the model \(SIGKILL\)/), hint: expect.stringMatching(/killed from outside/) });
    expect(e.state).toBe('failed');

    await e.start();
    process.kill(e.workerPid!, 'SIGKILL'); // idle: restart 1
    await next(e, 'restarting');
    const loading = await waitPhase(e, 'loading');
    process.kill(loading, 'SIGKILL'); // restart 1 dies while loading: restart 2, twice the delay
    await next(e, 'ready');
    expect(seen).toEqual(['ready', 'died:ENGINE_DIED', 'restarting:1:100', 'died:MODEL_INVALID', 'restarting:2:200', 'ready']);
    const [a] = await e.ask({ frames: [await frame()], questions: [SHORT] });
    expect(a!.error).toBeUndefined();
  });

  for (const phase of ['encoding', 'decoding', 'idle'] as const) {
    it(`while ${phase}: the ask in flight fails with ENGINE_DIED, died + restarting, then it serves again`, async () => {
      const e = (engine = new LocalEngine(faultOptions(slowEncodePair())));
      await e.start();
      const seen = record(e);
      const big = await frame(1008, 1008);
      const inFlight = phase === 'idle' ? undefined : e.ask({ frames: [big], questions: [LONG_ANSWER] });
      inFlight?.catch(() => undefined); // asserted below
      const pid = await waitPhase(e, phase);
      process.kill(pid, 'SIGKILL');
      if (inFlight) await expect(inFlight).rejects.toMatchObject({ code: 'ENGINE_DIED', message: expect.stringMatching(/died during this request \(SIGKILL\)/) });
      await next(e, 'ready');
      expect(seen).toEqual(['died:ENGINE_DIED', 'restarting:1:100', 'ready']);
      expect(e.health).toMatchObject({ status: 'ready', restarts: 1, lastError: { code: 'ENGINE_DIED' } });
      const [a] = await e.ask({ frames: [await frame()], questions: [SHORT] });
      expect(a!.error).toBeUndefined();
    });
  }

  it('a worker that crashes on every ask restarts with growing backoff, never gives up, and the backoff resets after a healthy run', async () => {
    const dir = join(TMP, 'crash-ask');
    mkdirSync(dir, { recursive: true });
    // Loads without warmup, then crashes llama.cpp in the vision graph on every ask.
    const bad = writeTinyQwen25VL(dir, { name: 'crash-ask', omitProjectorTensors: ['v.patch_embd.weight.1'] });
    const e = (engine = new LocalEngine(faultOptions(bad, { warmup: false, restart: { initialMs: 100, factor: 2, maxMs: 800, resetAfterMs: 1500 } })));
    await e.start();
    const seen = record(e);
    for (let i = 0; i < 3; i++) {
      await expect(e.ask({ frames: [await frame()], questions: [SHORT] }), seen.join(' ')).rejects.toMatchObject({ code: 'ENGINE_DIED' });
    }
    await next(e, 'ready');
    expect(seen.filter((s) => s.startsWith('restarting'))).toEqual(['restarting:1:100', 'restarting:2:200', 'restarting:3:400']);
    await new Promise((r) => setTimeout(r, 1600)); // healthy for longer than resetAfterMs
    await expect(e.ask({ frames: [await frame()], questions: [SHORT] })).rejects.toMatchObject({ code: 'ENGINE_DIED' });
    await next(e, 'ready');
    expect(seen.filter((s) => s.startsWith('restarting')).at(-1)).toBe('restarting:1:100');
  });

  it('close() mid-ask ends the worker at once and rejects the ask, with no unhandled rejection in the worker', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push(s) });
    const e = (engine = new LocalEngine(faultOptions(tinyPair(), { log })));
    await e.start();
    const inFlight = e.ask({ frames: [await frame()], questions: [LONG_ANSWER] });
    inFlight.catch(() => undefined); // asserted below
    const pid = await waitPhase(e, 'decoding');
    await e.close();
    await expect(inFlight).rejects.toMatchObject({ code: 'ABORTED' });
    expect(alive(pid)).toBe(false);
    expect(lines.join('\n')).not.toMatch(/Unhandled|ERR_|Error:/);
  });
});

describe('the worker never outlives the main process', SLOW, () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`main process ended with ${signal} while the worker is mid-ask: the worker exits`, async () => {
      const pair = tinyPair();
      const parent = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(import.meta.dirname, '..', 'support', 'engine-parent.ts'), pair.model, pair.mmproj], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      parent.on('error', () => undefined);
      let out = '';
      parent.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await until(() => out.includes('\n'), 'the parent to report a busy worker');
      const { worker, phase } = JSON.parse(out.split('\n')[0]!) as { worker: number; phase: string };
      expect(phase).toBe('decoding');
      const t0 = Date.now();
      parent.kill(signal);
      await until(() => !alive(worker), 'the worker to exit', 10_000);
      console.log(`worker exited ${Date.now() - t0} ms after the parent got ${signal}`);
    });
  }
});
