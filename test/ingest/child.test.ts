// spawnChild: errors of a child and its pipes reach the caller (never an uncaught exception), and a child started
// through it dies with its parent, even when the parent is killed with SIGKILL.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { canTieToParent, spawnChild } from '../../pipelines/ingest/child.ts';
import { alive, sleep } from './helpers.ts';

describe('spawnChild', () => {
  it('an EPIPE on stdin and a missing program go to the error callback', async () => {
    const errors: string[] = [];
    const child = spawnChild('sh', ['-c', 'exec 0<&-; sleep 0.3'], { stdio: ['pipe', 'ignore', 'ignore'] }, (e) => errors.push((e as NodeJS.ErrnoException).code ?? e.message));
    await sleep(150);
    child.stdin!.write(Buffer.alloc(1 << 20)); // the reader has closed its end
    await new Promise((r) => child.once('close', r));
    expect(errors).toContain('EPIPE');
    const missing: string[] = [];
    const ghost = spawnChild('/no/such/ffmpeg', [], { stdio: 'ignore' }, (e) => missing.push((e as NodeJS.ErrnoException).code!));
    await new Promise((r) => ghost.once('close', r));
    expect(missing).toEqual(['ENOENT']);
  });

  it.runIf(canTieToParent())('a child dies with its parent, even after kill -9 of the parent', async () => {
    // A parent that starts a long sleep through spawnChild and prints its pid.
    const script = `import { spawnChild } from ${JSON.stringify(new URL('../../pipelines/ingest/child.ts', import.meta.url).pathname)};
      const c = spawnChild('sleep', ['60'], { stdio: 'ignore' }, () => {}); console.log(c.pid);`;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve) => parent.stdout!.once('data', (d) => resolve(Number(String(d).trim()))));
    expect(alive(pid)).toBe(true);
    parent.kill('SIGKILL');
    const end = Date.now() + 5000;
    while (alive(pid) && Date.now() < end) await sleep(50);
    expect(alive(pid)).toBe(false);
  });
});
