// The reported defect, end to end: `vigil serve` with five cameras that refuse connections. Before, 75 attempts a
// minute left no warn line; now each camera writes one warn line with its reason, and its repeats are suppressed.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { freeTcpPort } from '../support/rtsp.ts';

const root = mkdtempSync(join(tmpdir(), 'vigil-camlog-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('five refusing cameras: one warn line each with what to do, and many attempts behind it', async () => {
  const ports = await Promise.all(Array.from({ length: 5 }, () => freeTcpPort()));
  const cameras = ports.flatMap((p, i) => ['--camera', `cam${i}=rtsp://admin:Secret-1@127.0.0.1:${p}/stream`]);
  const vigil = spawn(process.execPath, [resolve(import.meta.dirname, '../../bin/vigil.mjs'), 'serve', '--port', '0', '--data', join(root, 'data'), ...cameras], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, VIGIL_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  vigil.stdout!.on('data', (d) => (out += d));
  vigil.stderr!.on('data', (d) => (out += d));
  const exited = new Promise((r) => vigil.once('exit', r));
  try {
    // The default backoff retries within 0.5-5 s: in 12 s each camera tries about five times.
    await new Promise((r) => setTimeout(r, 12_000));
    const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; camera?: string; reason?: string; msg: string });
    const warns = lines.filter((l) => l.level === 40 && l.msg.startsWith('camera offline'));
    expect(warns.map((w) => w.camera).sort()).toEqual(['cam0', 'cam1', 'cam2', 'cam3', 'cam4']);
    for (const w of warns) expect(w.reason).toBe('connection refused: nothing listens on that port: check the camera is on and the port in the URL (RTSP is usually 554)');
    const status = await fetch(new URL('/api/cameras', /Vigil dashboard: (\S+)/.exec(out)![1])).then((r) => r.json() as Promise<{ restarts: number }[]>);
    expect(status.reduce((n, c) => n + c.restarts, 0)).toBeGreaterThanOrEqual(15);
    expect(out).not.toContain('Secret-1');
  } finally {
    vigil.kill('SIGTERM');
    await exited;
  }
});
