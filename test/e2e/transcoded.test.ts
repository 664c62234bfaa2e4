// Defect 7: an H.265 camera is transcoded (Chromium plays no HEVC) and now says so: /api/cameras carries the video
// path (copy or transcode, codec, why and the cost), the dashboard tags the camera and explains it, and the
// transcoded picture plays in Chromium (burned counter read from the screen advancing at the camera's rate).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { containRect } from '../../client/src/overlay.ts';
import type { CameraInfo } from '../../server/wire.ts';
import { readBarcodeFromImage } from '../support/barcode.ts';
import { buildDashboard, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { startHlsSource, type TestStreamSource } from '../support/stream-sources.ts';

const FPS = 15;

describe('transcoded H.265 camera', () => {
  let hevc: TestStreamSource;
  let avc: TestStreamSource;
  let server: TestServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    const clientDir = buildDashboard();
    [hevc, avc] = await Promise.all([startHlsSource({ codec: 'hevc', fps: FPS }), startHlsSource({ codec: 'h264', fps: FPS })]);
    server = await startTestServer({
      cameras: [{ id: 'h265cam', source: hevc.url, sampleInterval: 1 }, { id: 'h264cam', source: avc.url, sampleInterval: 1 }],
    }, { real: true, clientDir });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
    await Promise.all([hevc?.close(), avc?.close()]);
  });

  const info = async (id: string) => (await (await fetch(new URL(`/api/cameras/${id}`, server.url))).json()) as CameraInfo;
  async function live(id: string): Promise<CameraInfo> {
    for (let i = 0; i < 200; i++) {
      const c = await info(id);
      if (c.state === 'live' && c.hlsRun !== null) return c;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${id} never went live: ${JSON.stringify(await info(id))}`);
  }

  it('the API says which camera is transcoded, why, and what it costs', async () => {
    const [h265, h264] = await Promise.all([live('h265cam'), live('h264cam')]);
    expect(h265.video).toEqual({
      mode: 'transcode',
      codec: 'hevc',
      reason: expect.stringMatching(/^H\.265 camera: browsers \(Chromium\) cannot play HEVC, so Vigil re-encodes it to H\.264 \(about \d+% of a core at 640x360\); set the camera/),
    });
    expect(h264.video).toEqual({ mode: 'copy', codec: 'h264', reason: null });
  });

  it('the dashboard tags it and plays the transcoded picture at the camera rate', async () => {
    await Promise.all([live('h265cam'), live('h264cam')]);
    const { page } = browser;
    await page.goto(server.url);
    await page.waitForSelector('[data-camera="h265cam"] .tag.transcoded', { timeout: 15_000 });
    expect(await page.locator('[data-camera="h264cam"] .tag').count()).toBe(0);
    expect(await page.locator('[data-camera="h265cam"] .tag.transcoded').getAttribute('title')).toMatch(/cannot play HEVC/);

    await page.goto(`${server.url}#/camera/h265cam`);
    await expect.poll(() => page.locator('.single .video-path').textContent(), { timeout: 15_000 }).toMatch(/^video: H\.265 camera: .*re-encodes it to H\.264/);
    await page.waitForFunction(() => {
      const v = document.querySelector<HTMLVideoElement>('.single video');
      return !!v && v.readyState >= 2 && v.currentTime > 0.5 && !v.paused;
    }, null, { timeout: 30_000, polling: 250 });

    const shown = async () => {
      const shot = await page.locator('.single .player').screenshot();
      const el = (await page.locator('.single .player').boundingBox())!;
      const vid = await page.evaluate(() => {
        const v = document.querySelector<HTMLVideoElement>('.single video')!;
        return { w: v.videoWidth, h: v.videoHeight, t: v.currentTime };
      });
      const k = (await sharp(shot).metadata()).width! / el.width;
      const r = containRect(el.width * k, el.height * k, vid.w, vid.h);
      const counter = await readBarcodeFromImage(shot, { x: Math.round(r.x), y: Math.round(r.y), width: Math.round(r.w), height: Math.round(r.h) });
      return { counter, t: vid.t };
    };
    const a = await shown();
    await page.waitForTimeout(3000);
    const b = await shown();
    expect(a.counter).not.toBeNull();
    expect(b.counter).not.toBeNull();
    // The counter on screen advances FPS per second of media time: the picture is the camera's, at its rate.
    const counted = (b.counter! - a.counter!) / FPS;
    expect(counted).toBeGreaterThan(1);
    expect(Math.abs(counted - (b.t - a.t))).toBeLessThan(0.3);
    expect(browser.errors).toEqual([]);
  });
});
