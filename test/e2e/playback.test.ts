// Recorded playback in Debian's Chromium over the real pipeline: the shape camera (a red square moving 16 px a frame,
// its wall clock burned into every frame), the real server recording its segments, a rule made through the API,
// Vigil's OpenAIEngine asking the vision judge, the SQLite store. Once the rule's event has closed, its recording
// (start - pre to end + post) is opened in the recorded player: the boxes drawn over the frame on screen must be the
// stored evaluation of that very frame (the burned clock read from a capture of the presented frame is the evaluated
// pdt; the box is where the square is in that picture and where the store says), after a seek, a pause and a frame
// step. Then the event is exported from the page and the downloaded MP4 is probed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlaybackDraw } from '../../client/src/playback/recorded-player.ts';
import type { StoredEvaluation } from '../../client/src/playback/evaluations.ts';
import type { EventMessage } from '../../pipelines/rules/types.ts';
import type { EventDetail, EventInfo } from '../../server/wire.ts';
import type { TestBrowser } from '../support/browser.ts';
import type { TestServer } from '../support/server.ts';
import type { ShapeCamera } from '../support/shape-camera.ts';
import { until } from '../rules/helpers.ts';
import { boxMiss as miss, FRAME_MS, movingSquare, startRulesRig, toSourcePixels, type RulesRig } from '../support/rules-rig.ts';


describe('recorded playback with frame-exact overlays in Chromium', () => {
  let rig: RulesRig | undefined;
  let cam: ShapeCamera;
  let server: TestServer;
  let browser: TestBrowser;
  let event: EventInfo;
  let evaluations: StoredEvaluation[];
  /** Burned clock of the event's best frame, read from its stored snapshot (the very picture that was evaluated). */
  let bestClock: number;
  const tmp = mkdtempSync(join(tmpdir(), 'vigil-playback-'));
  const api = (path: string, init?: RequestInit) => fetch(new URL(path, server.url), init);

  beforeAll(async () => {
    const events: EventMessage[] = [];
    rig = await startRulesRig({
      camera: movingSquare(250),
      server: { engine: { state: 'ready' } },
      onServer: async (s) => {
        s.rules!.on('event', (m) => void events.push(m));
        // Through the API (the rule form is another page's test), before the camera is live: the first event then
        // spans the square's whole first appearance, not the tail of one already under way.
        const rule = { id: 'red', name: 'Red square', kind: 'detect', question: 'red square', trigger: { n: 2, of: 3 }, end: { negatives: 2 }, cooldown: 1, padding: { pre: 1, post: 1 } };
        const made = await fetch(new URL('/api/rules', s.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
        expect(made.status, await made.clone().text()).toBe(201);
      },
    });
    ({ cam, server, browser } = rig);
    // An event of a whole appearance (3+ positives): the camera's 8 s loop runs on its own clock, so the first sampled
    // frames may catch only the tail of one.
    const whole = async (): Promise<EventDetail | null> => {
      for (const m of events.filter((x) => x.type === 'closed' && x.event.rule === 'red')) {
        const d = (await (await api(`/api/events/${m.event.id}`)).json()) as EventDetail;
        if (d.evaluations.filter((e) => e.outcome === 'positive').length >= 3) return d;
      }
      return null;
    };
    let found: EventDetail | null = null;
    await until(async () => (found = await whole()) !== null, 'a red-square event of a whole appearance to close', 60_000, 200);
    event = found!;
    const { from, to } = { from: event.recording.from, to: event.recording.to! };
    // The recording index has the whole range once its last segment is closed.
    const covered = async () => {
      const res = await api(`/api/cameras/cam/vod.m3u8?from=${from}&to=${to}`);
      if (!res.ok) return false;
      const pdts = [...(await res.text()).matchAll(/#EXT-X-PROGRAM-DATE-TIME:(\S+)[\s\S]*?#EXTINF:([\d.]+)/g)].map((m) => Date.parse(m[1]!) + Number(m[2]) * 1000);
      return pdts.length > 0 && Math.max(...pdts) >= to;
    };
    await until(covered, 'the recording to cover the event', 30_000, 250);
    // The event's stored snapshot is the analysed frame at bestPdt: its burned clock ties pdt to the camera's clock.
    const snapshot = Buffer.from(await (await api(event.snapshot)).arrayBuffer());
    const best = await cam.truthOf(snapshot);
    expect(best.clock, 'the snapshot\'s burned clock').not.toBeNull();
    bestClock = best.clock!;
    evaluations = ((await (await api(`/api/cameras/cam/evaluations?from=${from}&to=${to}&rule=red`)).json()) as { evaluations: StoredEvaluation[] }).evaluations;
  }, 150_000);

  afterAll(async () => {
    await rig?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** A drawn box (CSS pixels of the video element) back in source pixels. */
  const toSource = () => toSourcePixels(browser.page, '.playback video');

  const last = () => browser.page.evaluate(() => window.__vigil!.playback!.last) as Promise<PlaybackDraw | null>;

  /** The event's best frame is on screen (paused): its burned clock is the evaluated picture's, its box the stored one and the square's. */
  async function expectOnItsFrame(d: PlaybackDraw | null, what: string): Promise<void> {
    expect(d?.evaluatedPdt, `${what}: an evaluated frame on screen`).not.toBeNull();
    const stored = evaluations.find((e) => e.pdt === d!.evaluatedPdt && e.rule === 'red');
    expect(stored, `${what}: the drawn result is a stored evaluation`).toBeDefined();
    expect(d!.capture, `${what}: captured`).toBeDefined();
    const truth = await cam.truthOf(Buffer.from(d!.capture!.split(',')[1]!, 'base64'));
    expect(truth.clock, `${what}: burned clock readable`).not.toBeNull();
    const box = d!.boxes.find((b) => b.rule === 'red' && b.exact);
    expect(box?.text, what).toMatch(/^Red square: red square/);
    const got = (await toSource())(box!);
    expect(miss(got, stored!.boxes[0]!), `${what}: drawn vs stored box`).toBeLessThanOrEqual(1);
    expect(truth.box, `${what}: the square is in the picture`).not.toBeNull();
    expect(miss(got, truth.box!), `${what}: drawn box vs the square in the displayed frame`).toBeLessThanOrEqual(4);
    // On the event's best frame the evaluated picture is at hand (the snapshot): the displayed frame shows its clock.
    expect(d!.evaluatedPdt, `${what}: the best frame on screen`).toBe(event.bestPdt);
    expect(Math.abs(truth.clock! - bestClock), `${what}: burned clock ${truth.clock} vs the evaluated frame's ${bestClock}`).toBeLessThanOrEqual(FRAME_MS / 2);
  }

  it("draws each stored evaluation on the frame it was computed on, after a seek, a pause and a frame step", async () => {
    const { page } = browser;
    const positives = evaluations.filter((e) => e.positive && e.boxes.length > 0);
    expect(positives.length).toBeGreaterThanOrEqual(3);
    const { from, to } = event.recording;
    await page.goto(`${server.url}#/playback/cam?from=${from}&to=${to}&rule=red`);
    await page.waitForFunction(() => (window.__vigil?.playback?.evaluations ?? 0) > 0, null, { timeout: 15_000 });
    await page.evaluate(() => void (window.__vigil!.playback!.capture = true));

    // Play a moment, then pause.
    await page.locator('.playback .play').click();
    await page.waitForFunction(() => (window.__vigil!.playback!.presentedCount ?? 0) > 20, null, { timeout: 15_000 });
    await page.locator('.playback .play').click();
    await page.waitForFunction(() => document.querySelector<HTMLVideoElement>('.playback video')!.paused);
    const here = (await last())!;

    // Seek (the seek bar) to the event's best frame, from the media time <-> pdt offset on screen.
    const target = evaluations.find((e) => e.pdt === event.bestPdt && e.boxes.length > 0)!;
    expect(target, 'the best frame is a stored evaluation with a box').toBeDefined();
    const offset = here.displayedPdt - here.mediaTime * 1000;
    const seekTo = (target.pdt - offset) / 1000 + FRAME_MS / 4000;
    await page.locator('.playback .seek').evaluate((el: HTMLInputElement, t) => {
      el.value = String(t);
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }, seekTo);
    await page.waitForFunction((p) => Math.abs((window.__vigil!.playback!.last?.displayedPdt ?? 0) - p) < 1000 / 60, target.pdt, { timeout: 10_000 });
    await expectOnItsFrame(await last(), 'after the seek');

    // One frame forward: not evaluated, so no box, only the faint marker of the last result and its age.
    await page.locator('.playback .step-forward').click();
    await page.waitForFunction((p) => (window.__vigil!.playback!.last?.displayedPdt ?? 0) > p + 1000 / 60, target.pdt, { timeout: 10_000 });
    const next = (await last())!;
    expect(next.displayedPdt - target.pdt).toBeGreaterThan(FRAME_MS / 2);
    expect(next.displayedPdt - target.pdt).toBeLessThan(FRAME_MS * 1.5);
    expect(next.boxes).toEqual([]);
    expect(next.marker).toMatch(/^last: red positive · 0\.0 s old$/);

    // And one back: the evaluated frame again, with its box.
    await page.locator('.playback .step-back').click();
    await page.waitForFunction((p) => Math.abs((window.__vigil!.playback!.last?.displayedPdt ?? 0) - p) < 1000 / 60, target.pdt, { timeout: 10_000 });
    await expectOnItsFrame(await last(), 'after a step back');

    // Played through at 0.5x from the start: every frame with boxes is an evaluated one, and the boxes sit on its square.
    await page.evaluate(() => void window.__vigil!.playback!.draws.splice(0));
    await page.locator('.playback .seek').evaluate((el: HTMLInputElement) => {
      el.value = '0';
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.locator('.playback .speed').selectOption('0.5');
    expect(await page.evaluate(() => document.querySelector<HTMLVideoElement>('.playback video')!.playbackRate)).toBe(0.5);
    await page.locator('.playback .play').click();
    const wanted = Math.min(4, positives.length);
    await page.waitForFunction((n) => window.__vigil!.playback!.draws.filter((d) => d.capture && !d.paused).length >= n, wanted, { timeout: 20_000 });
    await page.locator('.playback .play').click();
    const draws = ((await page.evaluate(() => window.__vigil!.playback!.draws)) as PlaybackDraw[]).filter((d) => d.capture && !d.paused);
    const source = await toSource();
    let onTruth = 0;
    for (const d of draws) {
      expect(d.evaluatedPdt).not.toBeNull();
      expect(Math.abs(d.displayedPdt - d.evaluatedPdt!)).toBeLessThanOrEqual(FRAME_MS / 2);
      const truth = await cam.truthOf(Buffer.from(d.capture!.split(',')[1]!, 'base64'));
      const box = d.boxes.find((b) => b.rule === 'red');
      if (truth.box && box && miss(source(box), truth.box) <= 4) {
        onTruth++;
      }
    }
    // A capture taken a little late while playing shows the next frame (drawImage reads the current frame), rarely.
    expect(onTruth / draws.length).toBeGreaterThanOrEqual(0.75);

    expect(browser.errors).toEqual([]);
  });

  it('exports the event as an MP4 from the page (phone-sized screen) and downloads it', async () => {
    const { page } = browser;
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.goto(`${server.url}#/playback/cam?from=${event.recording.from}&to=${event.recording.to}&rule=red`);
      await page.locator('.playback .play').waitFor({ timeout: 10_000 });
      // Controls fit the width: no sideways scrolling.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.locator('.export-start').click();
      await expectEventRecording(await downloadFrom('.export-download', 'clip.mp4', 60_000));
      expect(browser.errors).toEqual([]);
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it("the event page's clip link downloads the event's recording as an MP4 (what notifications link to)", async () => {
    const { page } = browser;
    await page.goto(`${server.url}#/events/${event.id}`);
    await expectEventRecording(await downloadFrom('.clip-link', 'event-clip.mp4', 10_000));
    expect(browser.errors).toEqual([]);
  });

  /** Clicks the link once it shows and saves what it downloads; returns the file. */
  async function downloadFrom(selector: string, name: string, timeout: number): Promise<string> {
    const link = browser.page.locator(selector);
    await link.waitFor({ timeout });
    const [download] = await Promise.all([browser.page.waitForEvent('download'), link.click()]);
    const file = join(tmp, name);
    await download.saveAs(file);
    return file;
  }

  /** The file is the event's recording: its length, and its first frame's burned capture clock at the range's start. */
  async function expectEventRecording(file: string): Promise<void> {
    const duration = Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]).toString());
    const span = (event.recording.to! - event.recording.from) / 1000;
    // Cut by stream copy at segment boundaries (1 s segments): within a segment either side.
    expect(Math.abs(duration - span), `duration ${duration} vs the recording's ${span} s`).toBeLessThanOrEqual(2);
    const png = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-frames:v', '1', '-f', 'image2', '-c:v', 'png', '-']);
    const first = await cam.truthOf(png);
    expect(first.clock).not.toBeNull();
    expect(Math.abs(first.clock! - event.recording.from)).toBeLessThanOrEqual(1500);
  }
});
