// Defect 4, HTTP MJPEG: a camera at a known rate (10 fps like an ESP32-CAM, 30 fps like an IP camera; ESP32-CAM
// framing, no timestamps) must be sampled at the configured interval and keep the camera's real clock: the burned
// counter advances `fps` per second of pdt, and the live HLS plays at 1x (counter vs frame time in a segment).
// Before the fix ffmpeg numbered the JPEGs at 25 fps (10 fps camera: 0.4 samples/s, 0.4x playback).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPlaylist } from '../../pipelines/ingest/hls-playlist.ts';
import { cameraHlsDir, LIVE_PLAYLIST } from '../../pipelines/ingest/paths.ts';
import { readBarcode, readBarcodeFromImage } from '../support/barcode.ts';
import { startMjpegServer, type TestMjpegServer } from '../support/mjpeg-server.ts';
import { decodeSegment, isState, makeSupervisor, nextFrames, waitForState } from './helpers.ts';

let dataDir: string;
beforeAll(async () => void (dataDir = await mkdtemp(join(tmpdir(), 'vigil-mjpeg-'))));
afterAll(() => rm(dataDir, { recursive: true, force: true }));

describe('HTTP MJPEG camera', () => {
  it.each([10, 30])('%i fps: samples at the interval on the camera clock; HLS plays at the real rate', async (FPS) => {
    const cam: TestMjpegServer = await startMjpegServer({ fps: FPS, width: 640, height: 360 });
    const id = `mjpeg${FPS}`;
    const h = makeSupervisor(dataDir, { id, source: cam.url, sampleInterval: 0.5 });
    h.sup.start();
    try {
      await waitForState(h.sup, isState('live'), 30_000, 'live');
      await nextFrames(h.sup, 2, 15_000); // past the start-up
      const t0 = Date.now();
      const frames = await nextFrames(h.sup, 9, 20_000);
      const wallS = (Date.now() - t0) / 1000;
      // Sampled frames per second of wall time follow the interval (0.5 s -> 2/s), not 0.8/s (25 fps numbering).
      expect(frames.length / wallS).toBeGreaterThan(1.5);
      expect(frames.length / wallS).toBeLessThan(2.6);
      const counters = await Promise.all(frames.map((f) => readBarcodeFromImage(f.jpeg)));
      expect(counters.every((c) => c !== null)).toBe(true);
      for (let i = 1; i < frames.length; i++) {
        const counted = (counters[i]! - counters[i - 1]!) / FPS; // seconds of camera time
        const pdtS = (frames[i]!.pdt - frames[i - 1]!.pdt) / 1000;
        expect(Math.abs(counted - pdtS), `frame ${i}: counter says ${counted} s, pdt says ${pdtS} s`).toBeLessThan(0.15);
        expect(counted).toBeGreaterThan(0.35);
        expect(counted).toBeLessThan(0.75);
      }
      // Across the whole run, pdt follows the counter (no drift): 0.6 s per second lost before the fix.
      const span = (counters.at(-1)! - counters[0]!) / FPS;
      expect(Math.abs((frames.at(-1)!.pdt - frames[0]!.pdt) / 1000 - span)).toBeLessThan(0.15);

      // The live HLS (encoded to H.264) plays at 1x: within a segment, frame time matches the counter.
      const pl = await readPlaylist(join(cameraHlsDir(dataDir, id), LIVE_PLAYLIST));
      const seg = pl!.segments.at(-2)!;
      const decoded = decodeSegment(join(cameraHlsDir(dataDir, id), seg.uri), 320, 180);
      expect(decoded.length).toBeGreaterThan(3);
      // About FPS frames per second of video: neither duplicated up to 25 fps nor stretched. (Arrival times are
      // rounded to the demuxer's 1/25 s, so above 25 fps a few frames share a slot and are dropped.)
      expect(decoded.length / seg.duration).toBeGreaterThan(Math.min(FPS, 25) * 0.7);
      expect(decoded.length / seg.duration).toBeLessThan(FPS * 1.3);
      const first = readBarcode(decoded[0]!.rgb, 320, 180)!;
      const last = readBarcode(decoded.at(-1)!.rgb, 320, 180)!;
      expect(Math.abs((last - first) / FPS - decoded.at(-1)!.offset)).toBeLessThan(0.15);
      expect(h.sup.snapshot()).toMatchObject({ state: 'live', decode: 'all', restarts: 0 });
    } finally {
      await h.sup.close();
      await cam.close();
    }
  });
});
