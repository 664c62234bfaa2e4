// Defect 8: ffmpeg older than 5.1 (Ubuntu 22.04's 4.4) breaks every camera on -fps_mode. `vigil doctor` and
// `vigil serve` refuse it with a clear message; version strings from distros, git and static builds all parse.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load.ts';
import { diagnose } from '../../server/commands/doctor.ts';
import { ffmpegCheck } from '../../server/doctor/checks.ts';
import { checkFfmpeg, ffmpegSupport, parseFfmpegVersion } from '../../pipelines/ingest/ffmpeg-version.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-ffver-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lavf = (maj: number, min: number) => `libavformat    ${maj}. ${min}.100 / ${maj}. ${min}.100\n`;
const out = (token: string, lib = '') => `ffmpeg version ${token} Copyright (c) 2000-2025 the FFmpeg developers\nbuilt with gcc 12\n${lib}`;

/** A fake `ffmpeg` printing the given -version output (nothing else in these tests runs it). */
function fakeFfmpeg(name: string, output: string): string {
  const bin = join(dir, name);
  writeFileSync(bin, `#!/bin/sh\ncat <<'EOF'\n${output}\nEOF\n`);
  chmodSync(bin, 0o755);
  return bin;
}

describe('ffmpeg -version parsing', () => {
  const cases: Array<[string, string, [number, number, number] | null, boolean]> = [
    ['Ubuntu 22.04', out('4.4.2-0ubuntu0.22.04.1', lavf(58, 76)), [4, 4, 2], false],
    ['Debian 11', out('4.3.8-0+deb11u3', lavf(58, 45)), [4, 3, 8], false],
    ['5.0 release', out('5.0.3', lavf(59, 16)), [5, 0, 3], false],
    ['Debian 12', out('5.1.9-0+deb12u1', lavf(59, 27)), [5, 1, 9], true],
    ['tag build', out('n6.1', lavf(60, 16)), [6, 1, 0], true],
    ['Debian trixie', out('7.1.1-1+b1', lavf(61, 7)), [7, 1, 1], true],
    ['static build', out('6.0-static https://johnvansickle.com/ffmpeg/', lavf(60, 3)), [6, 0, 0], true],
    ['Jellyfin', out('7.0.2-Jellyfin', lavf(61, 1)), [7, 0, 2], true],
    ['git build, new', out('N-112345-g1a2b3c4d5e', lavf(60, 10)), null, true],
    ['git build, old', out('N-100000-gabcdef0', lavf(58, 65)), null, false],
    ['gyan git build', out('2024-03-04-git-e30369bc1c-full_build-www.gyan.dev', lavf(60, 20)), null, true],
    ['4.4-git', out('4.4-git', lavf(58, 76)), null, false],
  ];
  it.each(cases)('%s', (_name, text, release, ok) => {
    const v = parseFfmpegVersion(text)!;
    expect(v.release).toEqual(release);
    const s = ffmpegSupport(v);
    expect(s.ok).toBe(ok);
    if (!s.ok) {
      expect(s.reason).toMatch(new RegExp(`^ffmpeg ${v.text.replace(/[.+]/g, '\\$&')} is too old .*needs 5\\.1 or newer`));
      expect(s.hint).toMatch(/ingest\.ffmpegPath/);
    }
  });
  it('a git build without a libavformat line is let through, saying so', () => {
    const s = ffmpegSupport(parseFfmpegVersion(out('N-112345-g1a2b3c4d5e'))!);
    expect(s).toMatchObject({ ok: true, detail: expect.stringMatching(/version not recognised/) });
  });
  it('not ffmpeg at all', () => {
    expect(parseFfmpegVersion('bash: ffmpeg: command not found')).toBeNull();
  });
  it('the real ffmpeg here is accepted', async () => {
    await expect(checkFfmpeg('ffmpeg')).resolves.toMatchObject({ detail: expect.stringMatching(/^ffmpeg \d/) });
  });
});

describe('doctor and serve refuse ffmpeg < 5.1', () => {
  const ubuntu = fakeFfmpeg('ffmpeg-4.4', out('4.4.2-0ubuntu0.22.04.1', lavf(58, 76)));

  it('doctor: the ffmpeg check fails with the version and what to do', async () => {
    const config = validateConfig({ ingest: { ffmpegPath: ubuntu }, server: { dataDir: join(dir, 'd') } });
    const report = await diagnose({ config, configError: null, clientDir: dir }, [ffmpegCheck]);
    expect(report.ok).toBe(false);
    expect(report.results[0]!.result).toMatchObject({
      ok: false,
      detail: 'ffmpeg 4.4.2-0ubuntu0.22.04.1 is too old (no -fps_mode before 5.1); Vigil needs 5.1 or newer',
      fix: expect.stringMatching(/Ubuntu 22\.04 \(4\.4\)/),
    });
  });

  it('serve: exits 1 before starting anything, naming the version and the fix', async () => {
    const cfg = join(dir, 'old.yaml');
    writeFileSync(cfg, `ingest:\n  ffmpegPath: ${ubuntu}\nserver:\n  port: 0\n  dataDir: ${join(dir, 'data')}\ncameras:\n  - id: a\n    source: testsrc\n`);
    const r = await promisify(execFile)(process.execPath, [resolve('bin/vigil.mjs'), 'serve', '--config', cfg], { timeout: 30_000 })
      .then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ffmpeg 4.4.2-0ubuntu0.22.04.1 is too old');
    expect(r.stderr).toMatch(/hint: Vigil needs ffmpeg 5\.1 or newer/);
    expect(r.stderr).not.toContain('Vigil dashboard');
  });
});
