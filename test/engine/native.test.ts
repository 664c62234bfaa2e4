// The native bridge loaded straight into this (vitest worker) process, on the tiny random-weight pair:
// defects of the Node binding itself, without the worker around it.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBridge, NATIVE_DIR, type Bridge } from '../../pipelines/engine/bridge.ts';
import type { ModelPair } from '../fixtures/gguf/index.ts';
import { alive, frame, tinyPair, TMP, until } from './helpers.ts';

let bridge: Bridge;
let pair: ModelPair;
let binsDir: string;

beforeAll(() => {
  bridge = loadBridge('cpu');
  pair = tinyPair('native');
  const nll = dirname(dirname(fileURLToPath(import.meta.resolve('node-llama-cpp'))));
  const pkg = dirname(dirname(createRequire(join(nll, 'package.json')).resolve('@node-llama-cpp/linux-x64')));
  binsDir = join(pkg, 'bins', 'linux-x64');
});

const rssMb = () => process.memoryUsage().rss / 1e6;

describe('native bridge', () => {
  it('a projector that fails to load frees the text model and context it loaded first', async () => {
    const junk = join(TMP, 'native', 'junk-mmproj.gguf');
    mkdirSync(dirname(junk), { recursive: true });
    writeFileSync(junk, Buffer.alloc(100_000, 7));
    // A big context makes each leaked load cost ~20 MB of KV cache (llama.cpp clears it, so it is resident).
    const load = () => bridge.load({ model: pair.model, mmproj: junk, binsDir, gpuLayers: 0, threads: 1, nCtx: 65536, nSeqMax: 1, warmup: false });
    const rss: number[] = [];
    for (let i = 0; i < 12; i++) {
      await expect(load()).rejects.toThrow(/could not load the projector/);
      rss.push(rssMb());
    }
    // The allocator keeps some freed memory for reuse at first; after that a leak grows ~20 MB per load
    // (measured: +128 MB over the last six loads before the fix, +22 MB after).
    expect(rss[11]! - rss[5]!).toBeLessThan(60);
  });

  it('arguments of the wrong type throw a TypeError and leave the model usable (not busy for good)', async () => {
    const m = await bridge.load({ model: pair.model, mmproj: pair.mmproj, binsDir, gpuLayers: 0, threads: 1, nCtx: 1024, nSeqMax: 2, warmup: false });
    try {
      expect(() => m.ask({ images: [123 as never], prefix: 'x', questions: [] })).toThrow(TypeError);
      expect(() => m.ask({ images: 'no' as never, prefix: 'x', questions: [] })).toThrow(/must be arrays/);
      expect(() => m.ask({ images: [], prefix: 'x', questions: [7 as never] })).toThrow(/questions\[0\] must be an object/);
      const img = await frame();
      const r = await m.ask({ images: [img.jpeg], prefix: `${bridge.marker}`, questions: [{ suffix: 'hi', grammar: 'root ::= "ok"', maxTokens: 4 }] });
      expect(r.answers[0]!.text).toBe('ok');
      expect(m.stats()).toEqual({ asks: 1, encodes: 1, phase: 'idle' });
    } finally {
      await m.close();
    }
  });

  it('a second call while an ask runs is refused through its promise, never as a synchronous throw', async () => {
    const m = await bridge.load({ model: pair.model, mmproj: pair.mmproj, binsDir, gpuLayers: 0, threads: 1, nCtx: 1024, nSeqMax: 1, warmup: false });
    const img = await frame();
    const running = m.ask({ images: [img.jpeg], prefix: bridge.marker, questions: [{ suffix: 'hi', grammar: 'root ::= "ok"', maxTokens: 4 }] });
    let closing: Promise<void> | undefined;
    expect(() => (closing = m.close())).not.toThrow();
    await expect(closing).rejects.toThrow(/busy/);
    await running;
    await m.close();
    expect(m.stats().phase).toBe('closed');
  });

  it('dieWithParent(): the kernel ends the process when its parent dies, even with its JS thread stuck', async () => {
    const addon = join(NATIVE_DIR, 'build', 'Release', 'vigil_mtmd_cpu.node');
    // The grandchild arms the watch, reports its pid, then blocks its JS thread for good: no 'disconnect'
    // handler or timer could ever run there.
    const grandchild = `const w = require(${JSON.stringify(addon)}).dieWithParent(); console.log(JSON.stringify({ pid: process.pid, ...w })); for (;;) {}`;
    const middle = `const c = require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(grandchild)}], { stdio: ['ignore', 'inherit', 'inherit'] }); c.on('error', () => {}); setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['-e', middle], { stdio: ['ignore', 'pipe', 'inherit'] });
    parent.on('error', () => undefined);
    let out = '';
    parent.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => out.includes('\n'), 'the grandchild to arm its watch', 30_000);
    const { pid, armed, ppid } = JSON.parse(out.split('\n')[0]!) as { pid: number; armed: boolean; ppid: number };
    expect(armed).toBe(true);
    expect(ppid).toBe(parent.pid);
    expect(alive(pid)).toBe(true);
    parent.kill('SIGKILL');
    await until(() => !alive(pid), 'the grandchild to die with its parent', 10_000);
  });
});
