// The operator's whole path in Debian's Chromium, over the real pipeline (the shape camera with its burned clock,
// the real server recording it, Vigil's OpenAIEngine asking the vision judge, the SQLite store): write a rule in
// the form, try it on the current frame, save it, see its first event arrive on the timeline, open it, and play
// its recording on the event page: the box drawn over the paused frame is the stored evaluation of that very frame
// (the burned clock of the picture on screen is the evaluated picture's), after a seek, a frame step and a pause.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlaybackDraw } from '../../client/src/playback/recorded-player.ts';
import type { EventInfo, RuleInfo } from '../../server/wire.ts';
import type { TestBrowser } from '../support/browser.ts';
import type { TestServer } from '../support/server.ts';
import type { ShapeCamera } from '../support/shape-camera.ts';
import { until } from '../rules/helpers.ts';
import { boxMiss, FRAME_MS, movingSquare, startRulesRig, toSourcePixels, type RulesRig } from '../support/rules-rig.ts';


describe('the operator path: rule form, try, save, timeline, event page, playback', () => {
  let rig: RulesRig | undefined;
  let cam: ShapeCamera;
  let server: TestServer;
  let browser: TestBrowser;
  const api = async <T,>(path: string): Promise<T> => (await (await fetch(new URL(path, server.url))).json()) as T;
  const field = (path: string) => browser.page.locator(`.field[data-field="${path}"]`);

  beforeAll(async () => {
    rig = await startRulesRig({ camera: movingSquare(250), firstFrame: true });
    ({ cam, server, browser } = rig);
  }, 90_000);

  afterAll(async () => {
    await rig?.close();
  });

  it('goes from a new rule to its event played back with the box on the frame it was computed on', async () => {
    const { page } = browser;
    // Write the rule in the form, with short confirmation and padding so an event opens and closes within seconds.
    await page.goto(`${server.url}#/rules/new`);
    await field('question').locator('textarea').waitFor({ timeout: 10_000 });
    await field('id').locator('input').fill('red');
    await field('name').locator('input').fill('Red square');
    await field('question').locator('textarea').fill('red square');
    await field('end.negatives').locator('input').fill('2');
    await field('cooldown').locator('input').fill('1');
    await field('padding.pre').locator('input').fill('1');
    await field('padding.post').locator('input').fill('1');
    // Try it on the current frame (the square may be in or out of view: the answer shows either way), then save.
    await page.locator('.try-button').click();
    await page.locator('.try-result').waitFor({ timeout: 20_000 });
    expect(await api<RuleInfo[]>('/api/rules')).toHaveLength(0);
    await page.locator('.save-button').click();
    await page.locator('.save-status', { hasText: 'Saved version 1.' }).waitFor({ timeout: 10_000 });

    // The first event arrives on the timeline live; once it has closed and its recording is indexed, open it.
    await page.goto(`${server.url}#/events`);
    const row = page.locator('.event-row').first();
    await row.waitFor({ timeout: 60_000 });
    const id = (await row.getAttribute('data-id'))!;
    let event!: EventInfo;
    await until(async () => (event = await api<EventInfo>(`/api/events/${id}`)).state === 'closed', 'the first event to close', 60_000, 250);
    await until(async () => recordingCovers(event), 'the recording to cover the event', 30_000, 250);
    await row.locator('.ev-rule').click();
    await page.locator(`.event-detail[data-id="${id}"] .playback`).waitFor({ timeout: 10_000 });
    expect(page.url()).toContain(`#/events/${encodeURIComponent(id)}`);
    await page.waitForFunction(() => (window.__vigil?.playback?.evaluations ?? 0) > 0, null, { timeout: 15_000 });
    // The player opens on the event's best frame (the one annotated above), with its box, not on the pre-roll.
    await page.waitForFunction((p) => Math.abs((window.__vigil!.playback!.last?.displayedPdt ?? 0) - p) < 1000 / 60, event.bestPdt, { timeout: 10_000 });
    await until(async () => (await last())!.boxes.some((b) => b.rule === 'red' && b.exact), 'the opening frame\'s box', 10_000, 100);
    expect((await last())!.evaluatedPdt).toBe(event.bestPdt);
    await page.evaluate(() => void (window.__vigil!.playback!.capture = true));

    // Play a moment and pause, then seek to the event's best frame.
    await page.locator('.playback .play').click();
    await page.waitForFunction(() => (window.__vigil!.playback!.presentedCount ?? 0) > 10, null, { timeout: 15_000 });
    await page.locator('.playback .play').click();
    await page.waitForFunction(() => document.querySelector<HTMLVideoElement>('.playback video')!.paused);
    const here = (await last())!;
    const offset = here.displayedPdt - here.mediaTime * 1000;
    await page.locator('.playback .seek').evaluate((el: HTMLInputElement, t) => {
      el.value = String(t);
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }, (event.bestPdt - offset) / 1000 + FRAME_MS / 4000);
    await page.waitForFunction((p) => Math.abs((window.__vigil!.playback!.last?.displayedPdt ?? 0) - p) < 1000 / 60, event.bestPdt, { timeout: 10_000 });
    await expectOnItsFrame(event, 'after the seek');

    // A frame step forward (not evaluated: no box) and back (the evaluated frame and its box again).
    await page.locator('.playback .step-forward').click();
    await page.waitForFunction((p) => (window.__vigil!.playback!.last?.displayedPdt ?? 0) > p + 1000 / 60, event.bestPdt, { timeout: 10_000 });
    expect((await last())!.boxes).toEqual([]);
    await page.locator('.playback .step-back').click();
    await page.waitForFunction((p) => Math.abs((window.__vigil!.playback!.last?.displayedPdt ?? 0) - p) < 1000 / 60, event.bestPdt, { timeout: 10_000 });
    await expectOnItsFrame(event, 'after a frame step back');
    expect(browser.errors).toEqual([]);
  });

  const last = () => browser.page.evaluate(() => window.__vigil!.playback!.last) as Promise<PlaybackDraw | null>;

  async function recordingCovers(event: EventInfo): Promise<boolean> {
    const res = await fetch(new URL(`/api/cameras/cam/vod.m3u8?from=${event.recording.from}&to=${event.recording.to}`, server.url));
    if (!res.ok) return false;
    const ends = [...(await res.text()).matchAll(/#EXT-X-PROGRAM-DATE-TIME:(\S+)[\s\S]*?#EXTINF:([\d.]+)/g)].map((m) => Date.parse(m[1]!) + Number(m[2]) * 1000);
    return ends.length > 0 && Math.max(...ends) >= event.recording.to!;
  }

  /** The best frame is on screen, paused: the drawn box is the stored one, on the square of the picture shown, whose burned clock is the evaluated picture's. */
  async function expectOnItsFrame(event: EventInfo, what: string): Promise<void> {
    const d = (await last())!;
    expect(d.evaluatedPdt, what).toBe(event.bestPdt);
    const snapshotClock = (await cam.truthOf(Buffer.from(await (await fetch(new URL(event.snapshot, server.url))).arrayBuffer()))).clock;
    const shown = await cam.truthOf(Buffer.from(d.capture!.split(',')[1]!, 'base64'));
    expect(shown.clock, `${what}: burned clock readable`).not.toBeNull();
    expect(Math.abs(shown.clock! - snapshotClock!), `${what}: shown frame's clock vs the evaluated frame's`).toBeLessThanOrEqual(FRAME_MS / 2);
    const box = d.boxes.find((b) => b.rule === 'red' && b.exact)!;
    expect(box, what).toBeDefined();
    const got = (await toSourcePixels(browser.page, '.playback video'))(box);
    expect(shown.box, `${what}: the square is in the picture`).not.toBeNull();
    expect(boxMiss(got, shown.box!), `${what}: drawn box vs the square on screen`).toBeLessThanOrEqual(4);
  }
});
