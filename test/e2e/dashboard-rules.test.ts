// Rule results, open events and the engine banner in Debian's Chromium, through the real pipeline: the shape
// camera (RTSP, ffmpeg, a red square that moves fast for 5 s, then leaves for 3 s, on a loop; its wall clock burned into every
// frame), the real server and rules loop, Vigil's OpenAIEngine asking the vision judge (which finds the square in
// the picture itself), the SQLite store. The box drawn over the frame on screen is compared with the square's
// ground truth for that very frame, read from the burned clock of a capture of that frame.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DetectionDraw } from '../../client/src/overlay.ts';
import type { EventMessage } from '../../pipelines/rules/types.ts';
import type { TestBrowser } from '../support/browser.ts';
import type { TestServer } from '../support/server.ts';
import type { ShapeCamera } from '../support/shape-camera.ts';
import type { VisionJudge } from '../support/vision-judge.ts';
import { until } from '../rules/helpers.ts';
import { boxMiss, FRAME_MS, movingSquare, startRulesRig, toSourcePixels, type RulesRig } from '../support/rules-rig.ts';

const HALF_FRAME = FRAME_MS / 2;
/** What /api/health reports (the rules ask the judge engine; the banner is driven from here). */
const health = { state: 'ready' as string };

describe('dashboard over the rules pipeline in Chromium', () => {
  let rig: RulesRig | undefined;
  let cam: ShapeCamera;
  let judge: VisionJudge;
  let server: TestServer;
  let browser: TestBrowser;
  const events: EventMessage[] = [];

  beforeAll(async () => {
    rig = await startRulesRig({
      camera: movingSquare(0),
      rules: [
        { id: 'red', name: 'Red square', kind: 'detect', question: 'red square', trigger: { n: 2, of: 3 }, end: { negatives: 2 }, cooldown: 1 },
        { id: 'shapes', name: 'Any shape', kind: 'detect', question: 'shapes', attributes: ['colour:string'], severity: 'detection', trigger: { n: 2, of: 3 }, end: { negatives: 2 }, cooldown: 1 },
      ],
      server: { engine: health },
      onServer: (s) => void s.rules!.on('event', (m) => void events.push(m)),
    });
    ({ cam, judge, server, browser } = rig);
  }, 60_000);

  // One page for every test; each judges only the console errors of its own steps.
  beforeEach(() => void browser.errors.splice(0));

  afterAll(async () => {
    await rig?.close();
  });

  /** A drawn box (CSS pixels of the video element) back in source pixels. */
  const toSource = () => toSourcePixels(browser.page, '.single video');

  it("draws the rules' boxes on the square's position in the displayed frame, and a late result with its age", async () => {
    const { page } = browser;
    await page.goto(`${server.url}#/camera/cam`);
    await page.waitForFunction(() => window.__vigil?.overlay !== null, null, { timeout: 15_000 });
    await page.evaluate(() => void (window.__vigil!.overlay!.capture = true));
    const exactShots = () => page.evaluate(() => window.__vigil!.overlay!.exactDraws.filter((d) => d.capture && d.boxes.some((b) => b.rule === 'red' && b.exact)).length);
    await expect.poll(exactShots, { timeout: 45_000, interval: 500 }).toBeGreaterThanOrEqual(14);
    const exact = (await page.evaluate(() => window.__vigil!.overlay!.exactDraws)) as DetectionDraw[];
    const source = await toSource();

    let checked = 0;
    let onTruth = 0;
    const misses: number[] = [];
    for (const d of exact) {
      const red = d.boxes.find((b) => b.rule === 'red' && b.exact);
      if (!red || !d.capture) continue;
      const truth = await cam.truthOf(Buffer.from(d.capture.split(',')[1]!, 'base64'));
      if (truth.clock === null) continue;
      checked++;
      const got = source(red);
      const miss = truth.box ? boxMiss(got, truth.box) : Infinity;
      misses.push(Math.round(miss));
      if (miss <= 4) onTruth++;
      expect(red.text).toMatch(/^Red square: red square/);
      // Every rule of the ask is drawn: the detection-severity rule boxes the same square, its attribute named.
      const any = d.boxes.find((b) => b.rule === 'shapes');
      expect(any?.text).toMatch(/^Any shape: .* colour=red/);
    }
    console.log('exact boxes vs the displayed frame\'s truth (max edge miss, source px):', misses.join(' '));
    // A capture taken a little late shows the next frame (drawImage reads the video's current frame), rarely.
    expect(checked).toBeGreaterThanOrEqual(12);
    expect(onTruth / checked).toBeGreaterThanOrEqual(0.85);

    // A slow engine: results arrive after their frame was on screen, so they are held and marked with their age.
    judge.setDelay(4000);
    try {
      const heldLong = () => page.evaluate(() => window.__vigil!.overlay!.detectionDraws.filter((d) => d.boxes.some((b) => b.rule === 'red' && !b.exact && d.displayedPdt - b.resultPdt > 1500)).length);
      await expect.poll(heldLong, { timeout: 45_000, interval: 500 }).toBeGreaterThanOrEqual(10);
    } finally {
      judge.setDelay(0);
    }
    const draws = (await page.evaluate(() => window.__vigil!.overlay!.detectionDraws)) as DetectionDraw[];
    for (const d of draws) {
      for (const b of d.boxes) {
        expect(b.resultPdt).toBeLessThanOrEqual(d.displayedPdt + HALF_FRAME); // never ahead of the picture
        if (b.exact) continue;
        const said = /· (\d+\.\d) s old$/.exec(b.text);
        expect(said, b.text).not.toBeNull();
        expect(Math.abs(Number(said![1]) - (d.displayedPdt - b.resultPdt) / 1000)).toBeLessThanOrEqual(0.051);
      }
    }
    expect(browser.errors).toEqual([]);
  });

  it('lists open events with their thumbnails (live and after a reload), badges tile and title, and sounds alerts when asked', async () => {
    const { page } = browser;
    const opened = (rule: string, after: number) => events.find((m, i) => i >= after && m.type === 'opened' && m.event.rule === rule);
    await page.goto(server.url);
    const tile = page.locator('.grid .tile[data-camera="cam"]');
    await tile.locator('.badge', { hasText: 'live' }).waitFor({ timeout: 15_000 });

    // The next appearance opens an alert (red) and a detection (any shape).
    let from = events.length;
    await until(() => !!opened('red', from), 'a red-square event to open', 30_000);
    const id = opened('red', from)!.event.id;
    const item = page.locator(`.alerts .alert-item[data-event="${id}"]`);
    await item.waitFor({ timeout: 10_000 });
    expect(await item.locator('.alert-rule').textContent()).toBe('Red square');
    expect(await item.locator('.alert-camera').textContent()).toBe('Yard');
    // The thumbnail is the stored event's own picture, served by the API.
    await page.waitForFunction((sel) => (document.querySelector<HTMLImageElement>(sel)?.naturalWidth ?? 0) > 0, `.alert-item[data-event="${id}"] img.alert-thumb`, { timeout: 10_000 });
    await page.waitForFunction(() => document.title === '(1) Vigil', null, { timeout: 10_000 });
    expect(await tile.locator('.alert-badge').textContent()).toBe('1 alert');

    // A fresh page learns what is open from GET /api/events?state=open (no socket message repeats it).
    await page.reload();
    await item.waitFor({ timeout: 5000 });
    expect(await page.title()).toBe('(1) Vigil');

    // The square leaves: the events close, the list empties, the title loses its badge.
    await page.locator('.alerts').waitFor({ state: 'hidden', timeout: 20_000 });
    expect(await page.title()).toBe('Vigil');
    expect(await tile.locator('.alert-badge').count()).toBe(0);

    // From a page that watches no camera's room (the view of an unknown camera), alerts still count, and with the
    // sound on (the click is the user gesture browsers ask for) one tone plays for the alert, none for the detection.
    await page.goto(`${server.url}#/camera/elsewhere`);
    await page.locator('.empty', { hasText: 'No camera "elsewhere"' }).waitFor({ timeout: 10_000 });
    await page.locator('.sound-toggle').click();
    expect(await page.evaluate(() => window.__vigil!.sound)).toEqual({ enabled: true, played: 1 });
    from = events.length;
    await until(() => !!opened('red', from) && !!opened('shapes', from), 'the next appearance to open both events', 30_000);
    await page.waitForFunction(() => document.title === '(1) Vigil', null, { timeout: 10_000 });
    expect(await page.locator('.alerts .alert-item').count()).toBe(2);
    expect(await page.evaluate(() => window.__vigil!.sound.played)).toBe(2);
    await page.locator('.sound-toggle').click();
    expect(browser.errors).toEqual([]);
  });

  it('shows the engine state in a banner while it is not ready', async () => {
    const { page } = browser;
    await page.goto(server.url);
    const banner = page.locator('.engine-banner');
    await page.locator('.grid .tile[data-camera="cam"]').waitFor({ timeout: 15_000 });
    expect(await banner.isHidden()).toBe(true);
    try {
      health.state = 'restarting';
      await banner.locator('strong', { hasText: 'Vision engine restarting' }).waitFor({ timeout: 10_000 });
      expect(await banner.getAttribute('data-level')).toBe('warn');
      Object.assign(health, { state: 'failed', error: { code: 'MODEL_MISSING', message: 'no model file and no network', hint: 'run `vigil models pull` where there is network' } });
      await banner.locator('strong', { hasText: 'Vision engine failed: no model file and no network' }).waitFor({ timeout: 10_000 });
      expect(await banner.locator('.detail').textContent()).toBe('run `vigil models pull` where there is network');
      Object.assign(health, { state: 'pulling', error: undefined, pull: { file: 'model.gguf', bytes: 300 * 1024 * 1024, total: 1200 * 1024 * 1024 } });
      await banner.locator('strong', { hasText: 'model.gguf: 300 MB of 1.17 GB (25%)' }).waitFor({ timeout: 10_000 });
      expect(Number(await banner.locator('progress').getAttribute('value'))).toBeCloseTo(0.25, 5);
    } finally {
      Object.assign(health, { state: 'ready', error: undefined, pull: undefined });
    }
    await banner.waitFor({ state: 'hidden', timeout: 10_000 });
    expect(browser.errors).toEqual([]);
  });
});
