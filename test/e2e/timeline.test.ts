// The event timeline in Debian's Chromium against a real server and the real SQLite store, filled first with a few
// thousand events written through store.events (as the rules loop writes them): keyboard review persisted through
// the API, infinite scroll over the cursor without duplicates, filters, the day strip, the detail page, and a phone viewport.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { openSqliteStore, storeFileIn } from '../../pipelines/store/index.ts';
import type { EventDetail, EventInfo } from '../../server/wire.ts';
import { buildDashboard, launchBrowser, type Page, type TestBrowser } from '../support/browser.ts';
import { evaluation, newEvent, T0 } from '../support/events.ts';
import { EventList } from '../../client/src/timeline/event-list.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const CAMERAS = ['front', 'yard'];
const RULES = ['helmets', 'cars'];
const COUNT = 2400;
/** One event every 50 s going back from T0: about 33 h, so two days hold events. */
const STEP = 50_000;

describe('event timeline in Chromium', () => {
  let root: string;
  let server: TestServer;
  let browser: TestBrowser;

  const api = async <T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> => {
    const r = await fetch(new URL(path, server.url), init);
    return { status: r.status, body: (await r.json()) as T };
  };
  /** Each page's own console errors: a page that a test leaves loading (a player reaching for a file-less segment) must not fail the next test. */
  const pageErrors = new WeakMap<Page, string[]>();
  const errorsOf = (page: Page) => pageErrors.get(page) ?? [];
  const openPage = async (hash: string, p?: Page): Promise<Page> => {
    const page = p ?? (await browser.context.newPage());
    if (!p) {
      // launchBrowser watches its first page only: collect this one's errors, for this page.
      const errors: string[] = [];
      pageErrors.set(page, errors);
      page.on('console', (m) => m.type() === 'error' && errors.push(`${m.text()} [${m.location().url}]`));
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    }
    await page.goto(new URL(`/${hash}`, server.url).href);
    return page;
  };
  const rowIds = (page: Page) => page.$$eval('.event-list .event-row', (rows) => rows.map((r) => (r as HTMLElement).dataset.id!));

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'vigil-timeline-'));
    const dataDir = join(root, 'data');
    const jpeg = await sharp({ create: { width: 64, height: 36, channels: 3, background: { r: 90, g: 40, b: 20 } } }).jpeg().toBuffer();
    const store = await openSqliteStore({ file: storeFileIn(dataDir), dataDir });
    const started = Date.now();
    const write = async (i: number) => {
      const startPdt = T0 - i * STEP;
      const rule = RULES[i % 2]!;
      const camera = CAMERAS[Math.floor(i / 2) % 2]!;
      const e = await store.events.open(
        newEvent({
          ruleOver: { id: rule, name: rule === 'cars' ? 'Cars' : 'Helmets', severity: i % 3 === 0 ? 'detection' : 'alert' },
          camera,
          startPdt,
          peak: 1 + (i % 4),
          evidence: { pdt: startPdt, snapshot: jpeg, annotated: jpeg, thumbnail: jpeg },
          evaluations: [evaluation({ rule, camera, pdt: startPdt - 1000 }), evaluation({ rule, camera, pdt: startPdt, raw: `answer ${i}` })],
        }),
      );
      await store.events.close(e.id, startPdt + 20_000, 'negatives');
    };
    // Batches overlap the evidence files' writes (the database itself is written one statement at a time).
    for (let i = 0; i < COUNT; i += 100) await Promise.all(Array.from({ length: Math.min(100, COUNT - i) }, (_, k) => write(i + k)));
    await store.close();
    console.log(`stored ${COUNT} events in ${Date.now() - started} ms`);
    server = await startTestServer(
      { cameras: CAMERAS.map((id) => ({ id, source: 'testsrc' })), rules: RULES.map((id) => ({ id, kind: 'detect' as const, question: id })) },
      { dataDir, clientDir: buildDashboard() },
    );
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('reviews with the keyboard across pages, persisted through the API', async () => {
    const page = await openPage('#/events');
    await page.waitForSelector('.event-row.selected');
    const first = await api<{ events: EventInfo[] }>('/api/events?limit=80');
    const ids = first.body.events.map((e) => e.id);
    expect(await rowIds(page).then((r) => r.slice(0, 50))).toEqual(ids.slice(0, 50));

    // The header counts every unreviewed event matching the filters (the server's count), and follows the review.
    const unreviewed = async () => Number(await page.getAttribute('.tl-count', 'data-unreviewed'));
    const counted = (await api<{ unreviewed: number }>('/api/events/counts')).body.unreviewed;
    await expect.poll(unreviewed).toBe(counted);
    const focused = () => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.id ?? null);
    await page.keyboard.press('j');
    expect(await focused()).toBe(ids[1]);
    await page.keyboard.press('r');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('t');
    await page.keyboard.press('j');
    await page.keyboard.press('f');
    await page.keyboard.press('k');
    expect(await focused()).toBe(ids[2]);
    await page.waitForSelector(`.event-row[data-id="${ids[3]}"][data-verdict="false-positive"]`);
    const stored = async (id: string) => (await api<EventInfo>(`/api/events/${id}`)).body;
    await expect.poll(async () => (await stored(ids[3]!)).verdict).toBe('false-positive');
    expect(await stored(ids[1]!)).toMatchObject({ reviewed: true, verdict: null });
    expect(await stored(ids[2]!)).toMatchObject({ reviewed: true, verdict: 'true-positive' });
    expect(await stored(ids[0]!)).toMatchObject({ reviewed: false, verdict: null });
    expect(await unreviewed()).toBe(counted - 3);

    // Past the first page: the list loads the next one and the keys keep working there.
    // Each step waits for its row: a key pressed at the end of what is loaded stays there until the page lands.
    for (let i = 3; i <= 70; i++) {
      await page.keyboard.press('j');
      await page.waitForFunction((id) => (document.activeElement as HTMLElement | null)?.dataset.id === id, ids[i]);
    }
    await page.keyboard.press('t');
    await expect.poll(async () => (await stored(ids[70]!)).verdict).toBe('true-positive');
    await page.keyboard.press('Enter');
    await page.waitForSelector(`.event-detail[data-id="${ids[70]}"]`);
    expect(page.url()).toContain(`#/events/${ids[70]}`);
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  }, 60_000);

  it('scrolls through pages without duplicates, in the API order; filters narrow the list', async () => {
    const opened = Date.now();
    const page = await openPage('#/events');
    await page.waitForSelector('.event-row');
    console.log(`first rows shown ${Date.now() - opened} ms after navigation (${COUNT} events stored)`);
    const want = (await api<{ events: EventInfo[] }>('/api/events?limit=300')).body.events.map((e) => e.id);
    const scrollStart = Date.now();
    while ((await rowIds(page)).length < 300) {
      await page.evaluate(() => document.querySelector('.tl-sentinel')!.scrollIntoView());
      await page.waitForTimeout(50);
    }
    console.log(`scrolled to 300 rows in ${Date.now() - scrollStart} ms`);
    const got = await rowIds(page);
    expect(new Set(got).size).toBe(got.length);
    expect(got.slice(0, 300)).toEqual(want);

    await page.selectOption('select[name=camera]', 'yard');
    await page.selectOption('select[name=rule]', 'cars');
    const yardCars = (await api<{ events: EventInfo[] }>('/api/events?camera=yard&rule=cars&limit=50')).body.events.map((e) => e.id);
    await expect.poll(async () => (await rowIds(page)).slice(0, 50)).toEqual(yardCars);
    const cams = await page.$$eval('.event-row .ev-camera', (els) => [...new Set(els.map((e) => e.textContent))]);
    expect(cams).toEqual(['yard']);
    // The filters ride in the URL: a reload (or a shared link) shows the same list with the same choices.
    expect(new URL(page.url()).hash).toBe('#/events?camera=yard&rule=cars');
    await page.reload();
    await expect.poll(async () => (await rowIds(page)).slice(0, 50)).toEqual(yardCars);
    expect([await page.inputValue('select[name=camera]'), await page.inputValue('select[name=rule]')]).toEqual(['yard', 'cars']);

    // Review state and verdict: one event of the filtered list gets a verdict through the API, then the filters find exactly it.
    const marked = yardCars[7]!;
    await api(`/api/events/${marked}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reviewed: true, verdict: 'false-positive' }) });
    const listed = async (q: string) => (await api<{ events: EventInfo[] }>(`/api/events?camera=yard&rule=cars&${q}`)).body.events.map((e) => e.id);
    const falsePositives = await listed('verdict=false-positive');
    expect(falsePositives).toContain(marked);
    await page.selectOption('select[name=verdict]', 'false-positive');
    await expect.poll(() => rowIds(page)).toEqual(falsePositives);
    await page.selectOption('select[name=verdict]', '');
    await page.selectOption('select[name=reviewed]', 'false');
    const open = await listed('reviewed=false&limit=20');
    expect(open).not.toContain(marked);
    await expect.poll(async () => (await rowIds(page)).slice(0, 20)).toEqual(open);

    // The day picker: dots on the days with events, and picking one limits the list to that day.
    await page.selectOption('select[name=reviewed]', '');
    const { body: { days } } = await api<{ days: { day: string; count: number }[] }>(`/api/events/days?camera=yard&rule=cars&tz=${Intl.DateTimeFormat().resolvedOptions().timeZone}`);
    expect(days.length).toBeGreaterThanOrEqual(2);
    await expect.poll(() => page.$$eval('.dp-day.has-events', (d) => d.map((x) => (x as HTMLElement).dataset.day))).toEqual(days.map((d) => d.day));
    const older = days[0]!;
    await page.click(`.dp-day[data-day="${older.day}"]`);
    const [y, m, d] = older.day.split('-').map(Number) as [number, number, number];
    const from = new Date(y, m - 1, d).getTime();
    const inDay = (await api<{ events: EventInfo[] }>(`/api/events?camera=yard&rule=cars&after=${from}&before=${new Date(y, m - 1, d + 1).getTime()}&limit=500`)).body.events.map((e) => e.id);
    expect(inDay).toHaveLength(older.count);
    await expect.poll(async () => (await rowIds(page)).slice(0, 20)).toEqual(inDay.slice(0, 20));
    expect((await rowIds(page)).every((id) => inDay.includes(id))).toBe(true);
    expect(await page.inputValue('input[name=from]')).toBe(older.day);
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  }, 60_000);

  it('shows a camera day as bars on a 24 h strip; a bar opens its event', async () => {
    const day = new Date(T0);
    day.setHours(0, 0, 0, 0);
    const from = day.getTime();
    const to = from + 86_400_000;
    const key = `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, '0')}-${String(day.getDate()).padStart(2, '0')}`;
    const expected = (await api<{ events: EventInfo[] }>(`/api/events?camera=front&after=${from}&before=${to}&limit=500`)).body.events;
    expect(expected.length).toBeGreaterThan(50);
    // Recorded video 07:00-08:00 and 09:30-10:00 (one-minute segments; the files themselves are not read here). Their
    // sequence numbers stay far above the live recorder's, so neither side's rows replace or remove the other's.
    const seg = (at: number, i: number) => ({ seq: 900_000 + i, file: `seg-${900_000 + i}.ts`, pdt: at + (i % 100) * 60_000, duration: 60, bytes: 1, run: 1 });
    const rec = [...Array.from({ length: 60 }, (_, i) => seg(from + 7 * 3_600_000, i)), ...Array.from({ length: 30 }, (_, i) => seg(from + 9.5 * 3_600_000, 100 + i))];
    await server.store.recordings.addMany('front', rec);
    // Index rows without files: removed again below, so no other test's player reaches for them.
    onTestFinished(() => server.store.recordings.remove('front', rec.map((r) => r.seq)));
    const page = await openPage(`#/strip/front/${key}`);
    await expect.poll(() => page.$$eval('.strip-event', (b) => b.length)).toBe(expected.length);
    const ranges = await page.$$eval('.rec-range', (r) => r.map((x) => [Number((x as HTMLElement).dataset.from), Number((x as HTMLElement).dataset.to), parseFloat((x as HTMLElement).style.left).toFixed(2)]));
    expect(ranges).toEqual([
      [from + 7 * 3_600_000, from + 8 * 3_600_000, ((7 / 24) * 100).toFixed(2)],
      [from + 9.5 * 3_600_000, from + 10 * 3_600_000, ((9.5 / 24) * 100).toFixed(2)],
    ]);
    const target = expected[3]!;
    await page.click(`.strip-event[data-id="${target.id}"]`, { force: true });
    await page.waitForSelector(`.event-detail[data-id="${target.id}"]`);
    await page.close();
  }, 30_000);

  it('shows an event with its evaluations, prompt, rule version and model; reviews, notes, keeps and deletes it', async () => {
    const { body: list } = await api<{ events: EventInfo[] }>('/api/events?camera=front&rule=helmets&limit=5');
    const id = list.events[4]!.id;
    const { body: detail } = await api<EventDetail>(`/api/events/${id}`);
    const page = await openPage(`#/events/${id}`);
    await page.waitForSelector('.evaluation');
    expect(await page.$$eval('.evaluation', (e) => e.length)).toBe(detail.evaluations.length);
    expect(await page.textContent('.evaluations')).toContain(detail.evaluations[1]!.raw!);
    expect(await page.textContent('.evaluations')).toContain('person [10,20,110,220]');
    expect(await page.textContent('.ed-prompt')).toBe(detail.prompt);
    expect(await page.textContent('[data-fact=Rule]')).toBe('helmets v1');
    expect(await page.textContent('[data-fact=Model]')).toBe('test-vision (openai)');
    expect(await page.$eval('.ed-frame', (img) => (img as HTMLImageElement).naturalWidth)).toBe(64);
    await page.waitForSelector('.event-playback');

    const stored = async () => (await api<EventInfo>(`/api/events/${id}`)).body;
    await page.click('button[name=false-positive]');
    await expect.poll(async () => (await stored()).verdict).toBe('false-positive');
    await page.fill('textarea[name=note]', 'a shadow');
    await page.click('text=Save note');
    await expect.poll(async () => (await stored()).note).toBe('a shadow');
    await page.check('input[name=keep]');
    await expect.poll(async () => (await stored()).keep).toBe(true);
    expect(await stored()).toMatchObject({ reviewed: true });

    page.once('dialog', (d) => void d.accept());
    await page.click('button[name=delete]');
    await page.waitForURL(/#\/events$/);
    expect((await api(`/api/events/${id}`)).status).toBe(404);
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  }, 30_000);

  it('live events prepend when they pass the filters, once, keeping the selection on its event', async () => {
    // The list's own fetches go to the real server (relative URLs resolved against it, as in the page).
    const realFetch = globalThis.fetch;
    globalThis.fetch = ((url: string | URL, init?: RequestInit) => realFetch(new URL(String(url), server.url), init)) as typeof fetch;
    try {
      const list = new EventList();
      await list.reset({ camera: 'front' });
      expect(list.events.value).toHaveLength(50);
      list.move(2);
      const selectedId = list.current()!.id;
      const base = list.events.value[0]!;
      const fresh: EventInfo = { ...base, id: 'live-1', state: 'open', startPdt: T0 + 5000, endPdt: null, reviewed: false, verdict: null };
      list.apply({ type: 'opened', event: fresh });
      list.apply({ type: 'opened', event: { ...fresh, id: 'live-2', camera: 'yard' } });
      list.apply({ type: 'updated', event: { ...fresh, peak: 9 } });
      expect(list.events.value.map((e) => e.id).slice(0, 2)).toEqual(['live-1', base.id]);
      expect(list.events.value.filter((e) => e.id === 'live-1')).toEqual([{ ...fresh, peak: 9 }]);
      expect(list.current()!.id).toBe(selectedId);
      await list.loadMore();
      const ids = list.events.value.map((e) => e.id);
      expect(ids).toHaveLength(101);
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      globalThis.fetch = realFetch;
    }
  });

  it('fits a 390x844 phone without horizontal scrolling', async () => {
    const phone = await launchBrowser({ viewport: { width: 390, height: 844 } });
    try {
      const { body } = await api<{ events: EventInfo[] }>('/api/events?limit=1');
      const width = () => phone.page.evaluate(() => document.documentElement.scrollWidth);
      await openPage('#/events', phone.page);
      await phone.page.waitForSelector('.event-row');
      expect(await width()).toBeLessThanOrEqual(390);
      await phone.page.selectOption('select[name=camera]', 'front');
      await phone.page.waitForSelector('.strip');
      expect(await width()).toBeLessThanOrEqual(390);
      await openPage(`#/events/${body.events[0]!.id}`, phone.page);
      await phone.page.waitForSelector('.evaluation');
      expect(await width()).toBeLessThanOrEqual(390);
      await openPage('#/strip/yard/2026-11-30', phone.page);
      await phone.page.waitForSelector('.strip-event');
      expect(await width()).toBeLessThanOrEqual(390);
      expect(phone.errors).toEqual([]);
    } finally {
      await phone.close();
    }
  }, 30_000);
});
