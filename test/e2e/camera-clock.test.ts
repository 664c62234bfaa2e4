// The browser's view of frame time on a real RTSP camera with B-frames: the HLS PROGRAM-DATE-TIME of the frame
// Chromium displays is within 250 ms of when the camera captured it (its burned wall clock), and the overlay, which
// keys on the sampled frame's pdt, lands on that frame or a close neighbour. Before the fix the HLS PDT was the HLS
// writer's start time, 0.7-2 s after capture, while frames were 1 s off the other way on B-frame cameras.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readClockFromImage } from '../support/barcode.ts';
import type { CameraInfo } from '../../server/wire.ts';
import { buildDashboard, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startRtspServer, type TestRtspServer } from '../support/rtsp.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const TOLERANCE_MS = 250;
/** Two frames at 30 fps plus the test camera's capture jitter (see test/ingest/frame-time.test.ts). */
const NEIGHBOUR_MS = 80;

interface Match {
  seq: number;
  run: number;
  markerPdt: number;
  displayedPdt: number;
  capture?: string;
}

describe('camera clock in Chromium', () => {
  let cam: TestRtspServer;
  let server: TestServer;
  let browser: TestBrowser;
  const sampled = new Map<string, Promise<number | null>>();

  beforeAll(async () => {
    const clientDir = buildDashboard();
    cam = await startRtspServer({ width: 640, height: 360, profile: 'high', bframes: 2, gop: 30 });
    server = await startTestServer({ cameras: [{ id: 'bcam', source: cam.url, sampleInterval: 0.5, decode: 'all' }] }, { real: true, clientDir });
    server.cameras.on('frame', (f) => sampled.set(`${f.run}:${f.seq}`, readClockFromImage(f.jpeg)));
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
    await cam?.close();
  });

  it('the displayed frame\'s HLS PDT is its capture time, and the overlay marks that frame', async () => {
    const { page } = browser;
    const live = async () => ((await (await fetch(new URL('/api/cameras/bcam', server.url))).json()) as CameraInfo).state === 'live';
    for (let i = 0; i < 100 && !(await live()); i++) await new Promise((r) => setTimeout(r, 200));
    await page.goto(`${server.url}#/camera/bcam`);
    await page.waitForFunction(() => window.__vigil?.overlay !== null, null, { timeout: 15_000 });
    await page.evaluate(() => void (window.__vigil!.overlay!.capture = true));
    await page.waitForFunction(() => (window.__vigil?.overlay?.matches ?? []).filter((m) => m.capture).length >= 8, null, { timeout: 45_000, polling: 250 });
    const matches = ((await page.evaluate(() => window.__vigil!.overlay!.matches)) as Match[]).filter((m) => m.capture);
    const rows: string[] = [];
    let compared = 0;
    for (const m of matches) {
      const shownClock = await readClockFromImage(Buffer.from(m.capture!.split(',')[1]!, 'base64'));
      const sampledClock = await sampled.get(`${m.run}:${m.seq}`);
      if (shownClock === null || sampledClock === undefined || sampledClock === null) continue;
      rows.push(`seq ${m.seq}: displayed PDT - its capture ${Math.round(m.displayedPdt - shownClock)} ms, shown - sampled frame ${shownClock - sampledClock} ms`);
      expect(Math.abs(m.displayedPdt - shownClock), rows.join('\n')).toBeLessThanOrEqual(TOLERANCE_MS);
      expect(Math.abs(shownClock - sampledClock), rows.join('\n')).toBeLessThanOrEqual(NEIGHBOUR_MS);
      compared++;
    }
    console.log(`camera clock in Chromium:\n  ${rows.join('\n  ')}`);
    expect(compared, rows.join('\n')).toBeGreaterThanOrEqual(6);
    expect(browser.errors).toEqual([]);
  }, 90_000);
});
