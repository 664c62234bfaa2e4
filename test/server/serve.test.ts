// `vigil serve` as a real process with real ffmpeg: prints its URL, never leaks camera credentials
// (API, page, logs), and on SIGTERM exits 0 leaving no ffmpeg child behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CameraInfo } from '../../server/wire.ts';

const SECRET = 's3cret';

function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function poll<T>(fn: () => Promise<T | undefined | null | false>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('vigil serve (process)', () => {
  let proc: ChildProcess;
  let out = '';
  let url = '';
  const data = mkdtempSync(join(tmpdir(), 'vigil-serve-'));

  beforeAll(async () => {
    proc = spawn(
      process.execPath,
      ['bin/vigil.mjs', 'serve', '--port', '0', '--data', data, '--camera', 'demo=testsrc', '--camera', `secret=rtsp://user:${SECRET}@127.0.0.1:1/x`],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VIGIL_LOG_LEVEL: 'debug', VITEST: '' } },
    );
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    url = await poll(async () => /Vigil dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1], 20_000, 'the dashboard URL');
  });
  afterAll(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    rmSync(data, { recursive: true, force: true });
  });

  it('serves both cameras; the broken one goes offline with a scrubbed reason', async () => {
    const cams = await poll(async () => {
      const list = (await (await fetch(new URL('/api/cameras', url))).json()) as CameraInfo[];
      const demo = list.find((c) => c.id === 'demo');
      const bad = list.find((c) => c.id === 'secret');
      return demo?.state === 'live' && bad?.reason ? list : null;
    }, 30_000, 'demo live and the broken camera to report a reason');
    expect(cams.find((c) => c.id === 'secret')!.state).not.toBe('live');
    // 'live' comes with the first sampled frame; the playlist follows with the first segment.
    const pl = await poll(async () => {
      const r = await fetch(new URL('/hls/demo/live.m3u8', url));
      return r.status === 200 ? r.text() : null;
    }, 10_000, 'the live playlist');
    expect(pl).toContain('#EXT-X-PROGRAM-DATE-TIME');
  });

  it('never shows the camera password: API, page, socket-less routes, logs', async () => {
    for (const p of ['/api/cameras', '/api/cameras/secret', '/api/health', '/', '/#/camera/secret', '/camera/secret', '/hls/secret/live.m3u8']) {
      const body = await (await fetch(new URL(p, url))).text();
      expect(body, p).not.toContain(SECRET);
    }
    expect(out.length).toBeGreaterThan(0);
    expect(out).not.toContain(SECRET);
  });

  it('exits 0 on SIGTERM and leaves no ffmpeg child', async () => {
    const kids = await poll(async () => {
      const k = childPids(proc.pid!);
      return k.length > 0 ? k : null;
    }, 10_000, 'ffmpeg children');
    const exited = new Promise<number | null>((done) => proc.once('exit', (code) => done(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    await poll(async () => kids.every((k) => !alive(k)), 5_000, 'children to exit');
    expect(kids.filter(alive)).toEqual([]);
    expect(out).toContain('shut down');
  });
});
