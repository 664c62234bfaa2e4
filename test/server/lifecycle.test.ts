// Vigil's process lifecycle, with the real CLI and real ffmpeg, checked through /proc: one Vigil per data folder,
// nothing left running after `kill -9`, a new Vigil ends what a crash left in its folder, and `npx vigil serve`
// stopped with SIGTERM (npm does not forward it) stops Vigil and its ffmpeg children too.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commandLineOf, isRunning, parentOf } from '../../server/lifecycle/proc.ts';
import { LOCK_FILE } from '../../server/lifecycle/data-lock.ts';

const REPO = resolve(import.meta.dirname, '../..');
const BIN = join(REPO, 'bin/vigil.mjs');
const started: ChildProcess[] = [];
const roots: string[] = [];
let silent: Server;
let silentUrl: string;

/** A camera that accepts TCP and never answers: its ffmpeg/ffprobe stays in the connecting phase. */
beforeAll(async () => {
  silent = createServer((s) => s.on('data', () => {}));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  silentUrl = `rtsp://127.0.0.1:${(silent.address() as { port: number }).port}/stream`;
});
afterAll(() => silent.close());
afterEach(() => {
  for (const p of started.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const pid of allPids()) if (/vigil-life-/.test((commandLineOf(pid) ?? []).join(' '))) kill(pid, 'SIGKILL');
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function tempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'vigil-life-'));
  roots.push(root);
  return root;
}

interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

/** Runs a command with Vigil's log on; a clean env so this test runner's npm variables do not leak in. */
function run(cmd: string, args: string[], cwd = REPO, extraEnv: Record<string, string> = {}): Proc {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, VIGIL_LOG_LEVEL: 'info', ...extraEnv };
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => out, exited };
}

const serveArgs = (data: string, ...cameras: string[]) => ['serve', '--port', '0', '--data', data, ...cameras.flatMap((c) => ['--camera', c])];

async function poll<T>(fn: () => T | undefined | null | false, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function allPids(): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number);
}

/** Every running descendant of `root`, with its program name. */
function descendants(root: number): { pid: number; prog: string }[] {
  const kids = new Map<number, number[]>();
  for (const pid of allPids()) {
    const pp = parentOf(pid);
    if (pp !== null) kids.set(pp, [...(kids.get(pp) ?? []), pid]);
  }
  const out: { pid: number; prog: string }[] = [];
  const stack = [root];
  while (stack.length) {
    for (const c of kids.get(stack.pop()!) ?? []) {
      stack.push(c);
      if (isRunning(c)) out.push({ pid: c, prog: (commandLineOf(c)?.[0] ?? '').split('/').pop()! });
    }
  }
  return out;
}

const cameraChildren = (root: number) => descendants(root).filter((d) => d.prog === 'ffmpeg' || d.prog === 'ffprobe');

function kill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

describe('one Vigil per data folder', () => {
  it('a second `vigil serve` on the same folder refuses with the owner pid and what to do; the first runs on', async () => {
    const data = join(tempRoot(), 'data');
    const first = run(process.execPath, [BIN, ...serveArgs(data, 'demo=testsrc')]);
    await poll(() => /Vigil dashboard: /.test(first.out()), 30_000, 'the first Vigil');
    const second = run(process.execPath, [BIN, ...serveArgs(data, 'demo=testsrc')]);
    expect(await second.exited).toBe(1);
    expect(second.out()).toContain(`vigil: [DATA_DIR_IN_USE] the data folder ${data} is in use by another Vigil (pid ${first.child.pid}`);
    expect(second.out()).toContain(`hint: stop that Vigil first (kill ${first.child.pid}), or give this one its own folder with --data <dir>`);
    expect(first.child.exitCode).toBeNull();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(existsSync(join(data, LOCK_FILE))).toBe(false); // a clean stop releases the lock
  });
});

describe('kill -9', () => {
  it('leaves no ffmpeg or ffprobe running (live and connecting cameras); the next Vigil takes the stale lock over', async () => {
    const root = tempRoot();
    const data = join(root, 'data');
    // Without ties to Vigil's life these children would run on: the live one until its next sampled frame (10 s)
    // finds stdout closed, the connecting one until its 30 s socket timeout.
    const config = join(root, 'vigil.yaml');
    writeFileSync(config, [
      'ingest:', '  rtspTimeout: 30', 'cameras:', '  - id: demo', '    source: testsrc', '    sampleInterval: 10',
      '  - id: mute', `    source: ${silentUrl}`, '',
    ].join('\n'));
    const vigil = run(process.execPath, [BIN, 'serve', '-c', config, '--port', '0', '--data', data]);
    await poll(() => /"msg":"camera live"/.test(vigil.out()), 30_000, 'the testsrc camera live');
    const kids = await poll(() => {
      const k = cameraChildren(vigil.child.pid!);
      return k.length >= 2 ? k : null; // the live ffmpeg and the connecting camera's ffprobe
    }, 10_000, 'both cameras running a child');
    vigil.child.kill('SIGKILL');
    await vigil.exited;
    await poll(() => kids.every((k) => !isRunning(k.pid)), 5_000, `children ${JSON.stringify(kids)} to exit after kill -9`);

    const next = run(process.execPath, [BIN, ...serveArgs(data, 'demo=testsrc')]);
    await poll(() => /Vigil dashboard: /.test(next.out()), 30_000, 'the next Vigil');
    expect(next.out()).toContain('took over the data folder lock of a Vigil that is gone');
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
  });

  it('a new Vigil ends ffmpeg that an earlier one left writing into its data folder', async () => {
    const data = join(tempRoot(), 'data');
    const hls = join(data, 'hls', 'old');
    mkdirSync(hls, { recursive: true });
    writeFileSync(join(data, LOCK_FILE), JSON.stringify({ pid: 999_999_999, startTime: '1', host: (await import('node:os')).hostname(), since: 'earlier' }));
    // What a crash leaves where children cannot be tied to Vigil: a detached ffmpeg still writing HLS there.
    const leftover = spawn('ffmpeg', ['-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=10',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-f', 'hls', '-hls_time', '1', join(hls, 'live.m3u8')], { detached: true, stdio: 'ignore' });
    started.push(leftover);
    await poll(() => existsSync(join(hls, 'live.m3u8')), 10_000, 'the leftover writing');
    // The default config's demo rules start the engine: no model in reach, so it fails fast instead of pulling
    // 3 GB into the user's cache (or loading one found there) during a lifecycle test.
    const noModel = { VIGIL_MODELS: join(data, '..', 'models'), VIGIL_MODELS_BASE_URL: 'http://127.0.0.1:9/' };
    const vigil = run(process.execPath, [BIN, ...serveArgs(data)], REPO, noModel);
    await poll(() => /Vigil dashboard: /.test(vigil.out()), 30_000, 'Vigil');
    expect(isRunning(leftover.pid!)).toBe(false);
    expect(vigil.out()).toContain(`"pids":[${leftover.pid}]`);
    expect(vigil.out()).toContain('ended 1 ffmpeg process(es) an earlier Vigil left running in the data folder');
    vigil.child.kill('SIGTERM');
    expect(await vigil.exited).toBe(0);
  });
});

describe('npx vigil serve', () => {
  it('SIGTERM to npm (which does not forward it) stops Vigil cleanly and leaves nothing running', async () => {
    // A user's project with vigil installed: npx finds node_modules/.bin/vigil and installs nothing.
    const project = tempRoot();
    mkdirSync(join(project, 'node_modules', '.bin'), { recursive: true });
    writeFileSync(join(project, 'package.json'), '{ "name": "cameras-at-home", "private": true }\n');
    symlinkSync(BIN, join(project, 'node_modules', '.bin', 'vigil'));
    const data = join(project, 'data');
    const npx = run('npx', ['--offline', 'vigil', ...serveArgs(data, 'demo=testsrc', `mute=${silentUrl}`)], project, { npm_config_update_notifier: 'false' });
    await poll(() => /"msg":"camera live"/.test(npx.out()), 40_000, 'the camera live under npx');
    const vigil = await poll(() => descendants(npx.child.pid!).find((d) => d.prog === 'node' && /vigil/.test(commandLineOf(d.pid)!.join(' '))), 5_000, 'the Vigil node process');
    const everything = descendants(npx.child.pid!);
    expect(everything.filter((d) => d.prog === 'ffmpeg').length).toBeGreaterThanOrEqual(1);
    npx.child.kill('SIGTERM'); // what a process manager or `kill %1` does
    await npx.exited;
    await poll(() => everything.every((d) => !isRunning(d.pid)), 15_000, `Vigil (${vigil.pid}) and its children ${JSON.stringify(everything)} to exit`);
    expect(npx.out()).toMatch(/"why":"(npm|the process that launched Vigil) \(pid \d+\) exited","msg":"stopping"/);
    expect(npx.out()).toContain('"msg":"shut down"');
    expect(existsSync(join(data, LOCK_FILE))).toBe(false);
  });
});
