// The pull reporter's log lines (one per 10% step, not one per progress callback; sizes in the total's unit)
// and the engine decision over config and stored rules.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { PullReporter, formatPair } from '../../server/engine/status.ts';
import { engineNeeded } from '../../server/engine/setup.ts';

function capture(): { log: pino.Logger; lines: () => string[] } {
  const out: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (out.push(JSON.parse(String(chunk)).msg as string), done()) });
  return { log: pino({ level: 'info' }, sink), lines: () => out };
}

describe('PullReporter', () => {
  it('logs one line per 10% step, names the missing files, and stops showing progress once complete', async () => {
    const { log, lines } = capture();
    const r = new PullReporter(log, () => ['/m/a.gguf', '/m/mmproj-a.gguf'], { bar: false });
    const total = 3_000_000_000;
    for (let b = 0; b <= total; b += total / 200) r.onProgress({ totalSize: total, downloadedSize: b });
    await new Promise((done) => setImmediate(done));
    const got = lines();
    expect(got[0]).toBe('pulling the default model (a.gguf, mmproj-a.gguf, 3.0 GB); it resumes if interrupted');
    const steps = got.filter((l) => l.startsWith('pulled ') && l.includes('%'));
    expect(steps).toHaveLength(10); // 0%, 10% ... 90%; 100% is the completion line
    expect(steps[4]).toBe('pulled 40% (1.2 of 3.0 GB)');
    expect(got.at(-1)).toBe('pulled the default model (3.0 GB)');
    expect(r.progress).toBeUndefined();
  });

  it('with a progress bar, logs only the start and the end', async () => {
    const { log, lines } = capture();
    const r = new PullReporter(log, () => ['/m/a.gguf'], { bar: true });
    r.onProgress({ totalSize: 1000, downloadedSize: 0 });
    r.onProgress({ totalSize: 1000, downloadedSize: 500 });
    expect(r.progress).toEqual({ file: 'a.gguf', bytes: 500, total: 1000 });
    r.onProgress({ totalSize: 1000, downloadedSize: 1000 });
    await new Promise((done) => setImmediate(done));
    expect(lines()).toHaveLength(2);
  });

  it('formats sizes in the unit of the total', () => {
    expect(formatPair(1_200_000, 3_000_000)).toBe('1.2 of 3.0 MB');
    expect(formatPair(12_000, 700_000)).toBe('12.0 of 700.0 KB');
  });
});

describe('engineNeeded', () => {
  it('is true when any rule from the config or the store is enabled', () => {
    expect(engineNeeded([])).toBe(false);
    expect(engineNeeded([{ enabled: false }])).toBe(false);
    expect(engineNeeded([{ enabled: true }])).toBe(true);
    expect(engineNeeded([{ enabled: false }], [{ enabled: true }])).toBe(true);
    expect(engineNeeded([], [{ enabled: false }])).toBe(false);
  });
});
