// `vigil doctor`: real ffmpeg passes; a missing or stripped-down ffmpeg fails with a fix to apply.
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { validateConfig } from '../../config/load.ts';
import { diagnose, formatReport } from '../../server/commands/doctor.ts';
import { defaultChecks, engineBridgeCheck, ffmpegFeaturesCheck, modelFilesCheck } from '../../server/doctor/checks.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-doctor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ctx = (cfg: object) => ({ config: validateConfig({ server: { dataDir: join(dir, 'data') }, ...cfg }), configError: null, clientDir: join(dir, 'dist') });

/** An "ffmpeg" that lists some features, in ffmpeg's own layout, but no libx264. */
function strippedFfmpeg(): string {
  const bin = join(dir, 'ffmpeg-no-x264');
  writeFileSync(
    bin,
    `#!/bin/sh
case "$2" in
  -encoders) printf 'Encoders:\\n V..... = Video\\n ------\\n VFS... mjpeg                MJPEG (Motion JPEG)\\n' ;;
  -filters) printf 'Filters:\\n  T.. = Timeline support\\n  | = Source or sink filter\\n ... showinfo  V->V  Show info\\n T.. select  V->N  Select\\n ..C scale  V->V  Scale\\n' ;;
  -muxers) printf 'File formats:\\n D. = Demuxing supported\\n .E = Muxing supported\\n --\\n  E hls             Apple HTTP Live Streaming\\n  E image2pipe      piped image2 sequence\\n' ;;
  *) echo "ffmpeg version 9.9-test Copyright" ;;
esac
`,
  );
  chmodSync(bin, 0o755);
  return bin;
}

describe('vigil doctor', () => {
  it('passes the ffmpeg checks with the system ffmpeg', async () => {
    const report = await diagnose(ctx({}), defaultChecks().filter((c) => c.name.startsWith('ffmpeg') || c.name === 'ffprobe' || c.name === 'data directory'));
    for (const { check, result } of report.results) expect(result.ok, `${check.name}: ${result.detail}`).toBe(true);
    expect(report.ok).toBe(true);
  });

  it('names a missing encoder and how to get it', async () => {
    const r = await ffmpegFeaturesCheck.run(ctx({ ingest: { ffmpegPath: strippedFfmpeg() } }));
    expect(r.ok).toBe(false);
    expect(r.detail).toBe('missing encoder libx264');
    expect(r.fix).toMatch(/apt-get install ffmpeg/);
  });

  it('fails required checks for a missing ffmpeg and an unbuilt dashboard, each with a fix', async () => {
    const report = await diagnose(ctx({ ingest: { ffmpegPath: join(dir, 'nope', 'ffmpeg') } }));
    expect(report.ok).toBe(false);
    const failed = report.results.filter((r) => !r.result.ok);
    expect(failed.map((f) => f.check.name)).toEqual(expect.arrayContaining(['ffmpeg', 'ffmpeg features', 'dashboard build']));
    for (const f of failed) expect(f.result.fix, f.check.name).toBeTruthy();
    const text = formatReport(report);
    expect(text).toMatch(/FAIL ffmpeg: .* not found/);
    expect(text).toContain('fix: npm run build:client');
  });

  it('names the model files the local engine will look for, and what to do about them', async () => {
    const models = join(dir, 'models');
    const byDefault = await modelFilesCheck.run(ctx({ engine: { local: { modelsDir: models } } }));
    expect(byDefault).toMatchObject({ ok: false, fix: 'vigil models pull' });
    expect(byDefault.detail).toContain(join(models, 'Qwen2.5-VL-3B-Instruct-Q4_K_M.gguf'));
    const half = await modelFilesCheck.run(ctx({ engine: { local: { model: join(dir, 'a.gguf') } } }));
    expect(half.ok).toBe(false);
    expect(half.detail).toMatch(/mmproj is not set/);
    const remote = await modelFilesCheck.run(ctx({ engine: { kind: 'openai' } }));
    expect(remote.ok).toBe(true);
  });

  it('finds the local engine bridge that npm install built', async () => {
    const r = await engineBridgeCheck.run(ctx({}));
    expect(r.ok, r.detail).toBe(true);
    expect(r.detail).toMatch(/vigil_mtmd_cpu\.node$/);
  });

  it('exits 1 with the config problem spelled out', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'cameras:\n  - id: x\n    sorce: rtsp://u:pw123456@h/s\n');
    const res = await promisify(execFile)(process.execPath, ['bin/vigil.mjs', 'doctor', '--config', bad]).then(
      () => ({ code: 0, stdout: '' }),
      (e: { code: number; stdout: string }) => e,
    );
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/FAIL config: .*unknown key: sorce/);
    expect(res.stdout).toContain('fix:');
  });
});
