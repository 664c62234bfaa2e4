// The built-in synthetic camera and the webcam path (no /dev/video here: injected lavfi input args), both encoded.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlaylist } from '../../pipelines/ingest/hls-playlist.ts';
import { cameraHlsDir, LIVE_PLAYLIST } from '../../pipelines/ingest/paths.ts';
import { readBarcodeFromImage } from '../support/barcode.ts';
import { isState, makeSupervisor, nextFrames, waitForState } from './helpers.ts';

let dataDir: string;
beforeAll(async () => void (dataDir = await mkdtemp(join(tmpdir(), 'vigil-testsrc-'))));
afterAll(() => rm(dataDir, { recursive: true, force: true }));

async function playable(id: string) {
  const path = join(cameraHlsDir(dataDir, id), LIVE_PLAYLIST);
  const pl = parsePlaylist(await readFile(path, 'utf8'));
  // Not spawnSync: the supervisor publishes the live playlist from this event loop, and a live playlist that stops
  // changing keeps ffprobe waiting for the next segment.
  const probe = await promisify(execFile)('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', path], { timeout: 20_000 });
  return { pl, stream: probe.stdout.trim().split('\n')[0] };
}

describe('testsrc camera', () => {
  it('emits frames carrying the burned counter, and a playable live playlist with program-date-time', async () => {
    const h = makeSupervisor(dataDir, { id: 'synthetic', source: 'testsrc', sampleInterval: 1 });
    h.sup.start();
    try {
      await waitForState(h.sup, isState('live'), 20_000, 'live');
      const frames = await nextFrames(h.sup, 3, 15_000);
      const counters = await Promise.all(frames.map((f) => readBarcodeFromImage(f.jpeg)));
      // 30 fps source sampled every second: consecutive counters about 30 apart, matching the PTS gap.
      for (let i = 1; i < frames.length; i++) {
        expect(Math.abs(counters[i]! - counters[i - 1]! - Math.round((frames[i]!.pts - frames[i - 1]!.pts) * 30))).toBeLessThanOrEqual(1);
        expect(frames[i]!.pdt - frames[i - 1]!.pdt).toBeCloseTo((frames[i]!.pts - frames[i - 1]!.pts) * 1000, -1);
      }
      expect([frames[0]!.width, frames[0]!.height]).toEqual([1288, 728]);
      const { pl, stream } = await playable('synthetic');
      expect(stream).toBe('h264,1280,720');
      expect(pl.segments.length).toBeGreaterThanOrEqual(2);
      expect(pl.segments.every((s) => s.pdt !== null)).toBe(true);
      expect(h.sup.snapshot()).toMatchObject({ state: 'live', run: 1, decode: 'all', restarts: 0 });
    } finally {
      await h.sup.close();
    }
  });
});

describe('webcam stand-in (inputArgs)', () => {
  it('encodes to H.264 for HLS and samples frames', async () => {
    const h = makeSupervisor(dataDir, {
      id: 'webcam', source: '/dev/video0', sampleInterval: 0.5,
      inputArgs: ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30'],
    });
    h.sup.start();
    try {
      const frames = await nextFrames(h.sup, 3, 25_000);
      expect(frames[1]!.pts - frames[0]!.pts).toBeCloseTo(0.5, 1);
      const { pl, stream } = await playable('webcam');
      expect(stream).toBe('h264,1280,720');
      expect(pl.segments[0]!.pdt).not.toBeNull();
      expect(await readBarcodeFromImage(frames[0]!.jpeg)).toBeNull(); // plain testsrc2: no counter burned
    } finally {
      await h.sup.close();
    }
  });

  it('restarts after a clean exit (code 0), with a new run and continued segment numbers', async () => {
    const h = makeSupervisor(dataDir, {
      id: 'ends', source: '/dev/video0', sampleInterval: 0.5,
      inputArgs: ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=15:duration=2.5'],
    });
    const runs: number[] = [];
    h.sup.on('run', (s) => runs.push(s.run));
    h.sup.start();
    try {
      const off = await waitForState(h.sup, (s) => s.state === 'offline', 20_000, 'offline');
      expect(off.reason).toMatch(/^camera closed the stream: reconnecting/);
      await waitForState(h.sup, (s) => s.run >= 2 && s.state === 'live', 20_000, 'second run');
      await nextFrames(h.sup, 1, 10_000);
      expect(runs.slice(0, 2)).toEqual([1, 2]);
      const { pl } = await playable('ends');
      expect(pl.mediaSequence).toBeGreaterThanOrEqual(3); // run 1 wrote seg-0..2; run 2 starts after them
      expect(h.frames.every((f, i) => i === 0 || f.run > h.frames[i - 1]!.run || f.seq === h.frames[i - 1]!.seq + 1)).toBe(true);
    } finally {
      await h.sup.close();
    }
  });

  it('a disabled camera is never connected', async () => {
    const h = makeSupervisor(dataDir, { id: 'off', source: 'testsrc', enabled: false });
    h.sup.start();
    expect(h.sup.snapshot()).toMatchObject({ state: 'disabled', run: 0 });
    await h.sup.close();
    expect(h.sup.snapshot().state).toBe('disabled');
  });
});

describe('decode auto', () => {
  it('switches from keyframes to full decode when keyframes turn out rarer than the sampling interval', async () => {
    // 0.5 s GOP for the first 3 s (what the probe sees), 2 s afterwards.
    const file = join(dataDir, 'gop-change.mp4');
    const enc = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=15:duration=20',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '1000', '-sc_threshold', '0', '-bf', '0',
      '-force_key_frames', 'expr:if(lt(t,3),gte(t,n_forced*0.5),gte(t,3+(n_forced-6)*2))', file]);
    expect(enc.status).toBe(0);
    const h = makeSupervisor(dataDir, { id: 'gop', source: file, sampleInterval: 1, decode: 'auto' });
    h.sup.start();
    try {
      await waitForState(h.sup, isState('live'), 20_000, 'live');
      expect(h.sup.snapshot().decode).toBe('keyframes');
      const off = await waitForState(h.sup, isState('offline'), 25_000, 'switch');
      expect(off.reason).toMatch(/keyframes every 2\.0 s, longer than the 1 s sampling interval: switching to full decode/);
      const again = await waitForState(h.sup, (s) => s.state === 'live' && s.run === 2, 20_000, 'live in full decode');
      expect(again.decode).toBe('all');
    } finally {
      await h.sup.close();
    }
  }, 90_000);
});
