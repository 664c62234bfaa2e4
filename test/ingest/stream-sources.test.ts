// Defect 4: HLS, RTMP and SRT cameras (real ffmpeg servers, burned counter) go live, are sampled at the configured
// interval, and their pdt follows the camera's own clock: the counter advances `fps` per second of pdt. H.264 is
// copied to the live HLS; H.265 (SRT, HLS) is transcoded, and the snapshot says so and why.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it, type ExpectStatic } from 'vitest';
import { cameraHlsDir, LIVE_PLAYLIST } from '../../pipelines/ingest/paths.ts';
import { readBarcodeFromImage } from '../support/barcode.ts';
import { startHlsSource, startRtmpSource, startSrtSource, type StreamSourceOptions, type TestStreamSource } from '../support/stream-sources.ts';
import { isState, makeSupervisor, nextFrames, waitForState, type Harness } from './helpers.ts';

let dataDir: string;
beforeAll(async () => void (dataDir = await mkdtemp(join(tmpdir(), 'vigil-streams-'))));
afterAll(() => rm(dataDir, { recursive: true, force: true }));

const INTERVAL = 1;

/** Samples 5 frames after start-up and checks rate and clock against the burned counter. */
async function expectCameraClock(expect: ExpectStatic, h: Harness, announced: Promise<unknown>, fps: number): Promise<void> {
  await waitForState(h.sup, isState('live'), 40_000, 'live');
  // Frames wait for the run's first segment PDT and are then released together: measure the steady flow after.
  await announced;
  await nextFrames(h.sup, 1, 15_000);
  const t0 = Date.now();
  const frames = await nextFrames(h.sup, 8, 30_000);
  // Wall-clock arrival follows the interval on average (loose: a loaded 2-core machine delays frames in bursts).
  const perSecond = frames.length / ((Date.now() - t0) / 1000);
  expect(perSecond).toBeGreaterThan(0.5 / INTERVAL);
  expect(perSecond).toBeLessThan(2 / INTERVAL);
  const counters = await Promise.all(frames.map((f) => readBarcodeFromImage(f.jpeg)));
  expect(counters.every((c) => c !== null), `counters ${counters.join(',')}`).toBe(true);
  for (let i = 1; i < frames.length; i++) {
    const counted = (counters[i]! - counters[i - 1]!) / fps;
    const pdtS = (frames[i]!.pdt - frames[i - 1]!.pdt) / 1000;
    expect(Math.abs(counted - pdtS), `frame ${i}: counter ${counted} s vs pdt ${pdtS} s`).toBeLessThan(0.1);
    expect(Math.abs(counted - INTERVAL)).toBeLessThan(0.35);
  }
}

function liveCodec(id: string): string {
  const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0',
    join(cameraHlsDir(dataDir, id), LIVE_PLAYLIST)], { encoding: 'utf8' });
  return r.stdout.trim().split('\n')[0]!;
}

const cases: Array<{ name: string; start: (o: StreamSourceOptions) => Promise<TestStreamSource>; codec: 'h264' | 'hevc' }> = [
  { name: 'hls-h264', start: startHlsSource, codec: 'h264' },
  { name: 'rtmp-h264', start: startRtmpSource, codec: 'h264' },
  { name: 'srt-h264', start: startSrtSource, codec: 'h264' },
  { name: 'srt-hevc', start: startSrtSource, codec: 'hevc' },
  { name: 'hls-hevc', start: startHlsSource, codec: 'hevc' },
];

// The five cameras run side by side, as a site's cameras do: each test waits mostly on real-time video, so
// together they take about as long as one (each has its own source, supervisor and camera id).
describe.concurrent('network camera kinds', () => {
  for (const c of cases) {
    it(`${c.name}: live, sampled every ${INTERVAL} s on the camera's clock, ${c.codec === 'h264' ? 'copied' : 'transcoded'}`, async ({ expect }) => {
      const src = await c.start({ fps: 15, codec: c.codec, width: 640, height: 360 });
      const h = makeSupervisor(dataDir, { id: c.name, source: src.url, sampleInterval: INTERVAL, decode: 'all' }, { rtspTimeout: 5 });
      const announced = new Promise((r) => {
        const off = h.sup.on('run', (snap) => {
          off();
          r(snap);
        });
      });
      h.sup.start();
      try {
        await expectCameraClock(expect, h, announced, src.fps);
        expect(liveCodec(c.name)).toBe('h264');
        expect(h.sup.snapshot().video).toMatchObject(c.codec === 'h264'
          ? { mode: 'copy', codec: 'h264', reason: null }
          : { mode: 'transcode', codec: 'hevc', reason: expect.stringMatching(/^H\.265 camera: browsers \(Chromium\) cannot play HEVC/) });
      } finally {
        await h.sup.close();
        await src.close();
      }
    });
  }
});
