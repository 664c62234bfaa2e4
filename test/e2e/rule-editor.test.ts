// The rules page and rule editor in Debian's Chromium against the real pipeline: the shape camera (RTSP, ffmpeg,
// a red square held still), the real server and rules loop, Vigil's OpenAIEngine asking the vision judge (which
// finds the square in the picture itself), the SQLite store. Help texts are the schema's own descriptions; every
// refusal shown at a field is the server's 400 message; nothing invalid is stored.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RuleInfo } from '../../server/wire.ts';
import type { TestBrowser } from '../support/browser.ts';
import type { TestServer } from '../support/server.ts';
import { until } from '../rules/helpers.ts';
import type { ShapeCamera } from '../support/shape-camera.ts';
import { startRulesRig, type RulesRig } from '../support/rules-rig.ts';

describe('rules page and rule editor in Chromium', () => {
  let rig: RulesRig | undefined;
  let cam: ShapeCamera;
  let server: TestServer;
  let browser: TestBrowser;

  const api = async <T,>(path: string): Promise<T> => (await (await fetch(new URL(path, server.url))).json()) as T;
  const field = (path: string) => browser.page.locator(`.field[data-field="${path}"]`);

  beforeAll(async () => {
    // The zone editor shows the newest sampled frame: the rig waits for the first.
    rig = await startRulesRig({
      camera: { colour: 'red', shape: 'square', size: 80, width: 640, height: 360, timeline: { visible: [{ from: 0 }], path: [{ at: 0, x: 280, y: 160 }] } },
      rules: [{ id: 'from-config', name: 'Config square', kind: 'yesno', question: 'Is there a red square?', severity: 'detection', every: 2 }],
      // A channel for the notify field to offer (no broker listens: delivery is not this test's business).
      config: { notify: { channels: [{ id: 'ha', type: 'mqtt', url: 'mqtt://127.0.0.1:9' }] } },
      firstFrame: true,
    });
    ({ cam, server, browser } = rig);
  }, 60_000);

  beforeEach(() => void browser.errors.splice(0));

  afterAll(async () => {
    await rig?.close();
  });

  it('creates a rule in the form, tries it on the current frame, draws a zone, saves v1, lists it, edits it to v2 with a field diff', async () => {
    const { page } = browser;
    await page.goto(`${server.url}#/rules`);
    await page.locator('.rule-row[data-rule="from-config"]').waitFor({ timeout: 10_000 });
    await page.locator('a.new-rule').click();
    await page.waitForFunction(() => location.hash === '#/rules/new');

    // Help texts and defaults come from the server's schema (RuleSchema's .describe() and .default()).
    await field('cooldown').locator('.field-help', { hasText: 'Seconds (video time) after an event closes' }).waitFor({ timeout: 10_000 });
    expect(await field('cooldown').locator('.field-default').textContent()).toContain('60');
    expect(await field('trigger.n').locator('.field-help').textContent()).toContain('Positives needed among the latest `of` evaluations');

    await field('id').locator('input').fill('red-e2e');
    await field('name').locator('input').fill('Red in the yard');
    await field('question').locator('textarea').fill('red square');

    // A zone drawn on the camera's newest frame (GET /api/cameras/cam/frame.jpg): four clicks near the corners, then close it.
    const canvas = page.locator('.zone-editor[data-camera="cam"] .zone-canvas');
    await page.waitForFunction(() => (document.querySelector<HTMLImageElement>('.zone-canvas img')?.naturalWidth ?? 0) > 0);
    const bb = (await canvas.boundingBox())!;
    for (const [fx, fy] of [[0.1, 0.2], [0.9, 0.2], [0.9, 0.95], [0.1, 0.95]] as const) await canvas.click({ position: { x: bb.width * fx, y: bb.height * fy } });
    await page.locator('.zone-editor button', { hasText: 'Close polygon (4 corners)' }).click();
    await page.locator('.zone-canvas polygon.zone').waitFor();

    // Try it before saving: the unsaved rule (with its zone) on the camera's newest frame.
    await page.locator('.try-button').click();
    const result = page.locator('.try-result');
    await result.waitFor({ timeout: 20_000 });
    expect(await result.getAttribute('data-positive')).toBe('true');
    expect(await result.locator('.verdict').textContent()).toBe('Positive');
    await page.waitForFunction(() => (document.querySelector<HTMLImageElement>('.try-annotated')?.naturalWidth ?? 0) > 0);
    expect(await result.locator('.try-raw').textContent()).toContain('bbox_2d');
    const boxes = JSON.parse((await result.locator('.try-boxes').textContent())!) as { x1: number }[];
    expect(boxes.length).toBe(1);
    expect(Math.abs(boxes[0]!.x1 - 280)).toBeLessThanOrEqual(4);
    expect(await api<RuleInfo[]>('/api/rules')).toHaveLength(1); // trying stores nothing

    // Notifications: every configured channel by default; unticked, the configured channels are offered by id.
    const notify = field('notify.channels');
    await notify.locator('input[name=notify-every]').uncheck();
    await notify.locator('input[name=notify-ha]').check();

    await page.locator('.save-button').click();
    await page.locator('.save-status', { hasText: 'Saved version 1.' }).waitFor({ timeout: 10_000 });
    const v1 = await api<RuleInfo>('/api/rules/red-e2e');
    expect(v1.version).toBe(1);
    expect(v1.rule.notify?.channels).toEqual(['ha']);
    expect(v1.rule).toMatchObject({ name: 'Red in the yard', question: 'red square', kind: 'detect', cameras: 'all', cooldown: 60 });
    const zone = v1.rule.zones!['cam']![0]!;
    expect(zone).toHaveLength(4);
    [[0.1, 0.2], [0.9, 0.2], [0.9, 0.95], [0.1, 0.95]].forEach(([x, y], i) => {
      expect(zone[i]![0]).toBeCloseTo(x!, 1);
      expect(zone[i]![1]).toBeCloseTo(y!, 1);
    });
    expect(page.url()).toMatch(/#\/rules\/red-e2e$/);

    // Edit: a new version, with who changed what.
    await field('cooldown').locator('input').fill('30');
    await page.locator('.save-button').click();
    const v2 = page.locator('.version[data-version="2"]');
    await v2.waitFor({ timeout: 10_000 });
    expect(await v2.locator('.version-author').textContent()).toBe('local');
    expect(await v2.locator('li[data-path="cooldown"]').textContent()).toBe('cooldown: 60 → 30');
    expect(await v2.locator('.version-changes li').count()).toBe(1);
    expect(await page.locator('.version[data-version="1"]').textContent()).toContain('(created)');
    expect((await api<RuleInfo>('/api/rules/red-e2e')).version).toBe(2);

    // The list: the new rule with its columns; the switch saves another version; the config rule is read-only.
    await page.goto(`${server.url}#/rules`);
    const row = page.locator('.rule-row[data-rule="red-e2e"]');
    await row.waitFor({ timeout: 10_000 });
    expect(await row.locator('.rule-name').textContent()).toBe('Red in the yard');
    expect(await row.locator('.rule-cameras').textContent()).toBe('all');
    expect(await row.locator('.rule-kind').textContent()).toBe('detect');
    expect(await row.locator('.rule-severity').textContent()).toBe('alert');
    expect(await row.locator('.rule-version').textContent()).toBe('v2');
    await row.locator('.rule-events', { hasText: /^\d+$/ }).waitFor({ timeout: 10_000 });
    await row.locator('.enabled-switch').click();
    await row.locator('.rule-version', { hasText: 'v3' }).waitFor({ timeout: 10_000 });
    expect((await api<RuleInfo>('/api/rules/red-e2e')).rule.enabled).toBe(false);
    const config = page.locator('.rule-row[data-rule="from-config"]');
    expect(await config.locator('.config-note').textContent()).toBe('from the config file: edit it there');
    expect(await config.locator('.enabled-switch').isDisabled()).toBe(true);

    // The config rule has been evaluating all along: its rate and model time come from /metrics.
    await until(async () => {
      await page.reload();
      await config.locator('.rule-model-time').waitFor();
      return /^\d+ ms$/.test((await config.locator('.rule-model-time').textContent()) ?? '') && /^\d+$/.test((await config.locator('.rule-rate').textContent()) ?? '');
    }, 'the config rule to show its evaluation rate and model time', 20_000, 1000);
    await page.goto(`${server.url}#/rules/from-config`);
    await page.locator('.readonly-note', { hasText: 'from the config file: edit it there' }).waitFor({ timeout: 10_000 });
    expect(await field('question').locator('textarea').inputValue()).toBe('Is there a red square?');
    expect(await field('question').locator('textarea').isDisabled()).toBe(true);
    expect(await page.locator('.save-button').isDisabled()).toBe(true);
    expect(browser.errors).toEqual([]);
  });

  it("serves a camera's newest sampled frame for the zone editor, 404 for an unknown camera", async () => {
    const res = await fetch(new URL('/api/cameras/cam/frame.jpg', server.url));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const jpeg = Buffer.from(await res.arrayBuffer());
    expect(jpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
    expect((await cam.truthOf(jpeg)).box).not.toBeNull(); // the square is in it: a real frame of this camera
    expect((await fetch(new URL('/api/cameras/nope/frame.jpg', server.url))).status).toBe(404);
  });

  it("shows each invalid input's server message at its field and stores nothing", async () => {
    const { page } = browser;
    const before = JSON.stringify(await api<RuleInfo[]>('/api/rules'));
    await page.goto(`${server.url}#/rules/new`);
    await field('id').locator('input').fill('bad-rule');
    await field('question').locator('textarea').fill('   ');
    const save = async () => {
      await page.locator('.save-button').click();
      await page.locator('.field.invalid').first().waitFor({ timeout: 10_000 });
    };
    await save();
    expect(await field('question').locator('.field-error').textContent()).toBe('the question is empty');
    expect(await page.locator('.field-error').count()).toBe(1);

    await field('question').locator('textarea').fill('red square');
    await field('trigger.n').locator('input').fill('5');
    await field('trigger.of').locator('input').fill('3');
    await page.locator('.save-button').click();
    await field('trigger.n').locator('.field-error', { hasText: 'n (5) cannot exceed of (3)' }).waitFor({ timeout: 10_000 });
    expect(await field('question').locator('.field-error').count()).toBe(0);

    await field('trigger.n').locator('input').fill('2');
    const json = page.locator('.zone-editor[data-camera="cam"] .zone-json');
    await json.fill('[[[1.5,0.1],[0.9,0.1],[0.9,0.9]]]');
    await json.blur();
    await page.locator('.save-button').click();
    const zoneError = field('zones').locator('.field-error');
    await zoneError.waitFor({ timeout: 10_000 });
    expect(await zoneError.textContent()).toMatch(/<=1|at most 1|less than or equal to 1/i);
    expect(await page.locator('.field-error').count()).toBe(1);

    // "Try it" reports through the same fields.
    await page.locator('.try-button').click();
    await page.locator('.try-error').waitFor({ timeout: 10_000 });
    expect(await zoneError.count()).toBe(1);

    expect(JSON.stringify(await api<RuleInfo[]>('/api/rules'))).toBe(before);
    expect((await fetch(new URL('/api/rules/bad-rule', server.url))).status).toBe(404);
    expect(browser.errors.filter((e) => !/status of 400/.test(e))).toEqual([]);
  });

  it('renders the list and the form on a 390x844 phone screen without horizontal scroll', async () => {
    const { page } = browser;
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      for (const hash of ['#/rules', '#/rules/new']) {
        await page.goto(`${server.url}${hash}`);
        await page.locator(hash === '#/rules' ? '.rule-row' : '.field[data-field="cooldown"] .field-help').first().waitFor({ timeout: 10_000 });
        const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
        expect(widths, hash).toEqual({ scroll: 390, client: 390 });
      }
      expect(await field('question').locator('textarea').evaluate((el) => el.getBoundingClientRect().right)).toBeLessThanOrEqual(390);
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
    expect(browser.errors).toEqual([]);
  });
});
