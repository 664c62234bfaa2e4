// The timeline's event queries over HTTP: reviewed/verdict filters on the list, counts, days in a time zone, and
// clear 400s for bad filters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent } from '../support/events.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const D0 = Date.parse('2026-11-28T00:00:00Z');
const HOUR = 3_600_000;
const DAY_MS = 24 * HOUR;

describe('event timeline API', () => {
  let s: TestServer;
  const get = async <T>(path: string) => {
    const r = await fetch(new URL(path, s.url));
    return { status: r.status, body: (await r.json()) as T };
  };

  beforeAll(async () => {
    s = await startTestServer({ cameras: [{ id: 'front', source: 'testsrc' }] });
    const ids: string[] = [];
    for (const t of [D0 + 23.5 * HOUR, D0 + 34 * HOUR, D0 + 49 * HOUR]) ids.push((await s.store.events.open(newEvent({ camera: 'front', startPdt: t }))).id);
    await s.store.events.review(ids[2]!, { reviewed: true, verdict: 'true-positive' });
  });
  afterAll(() => s?.dispose());

  it('filters the list by reviewed and verdict', async () => {
    const unreviewed = await get<{ events: { reviewed: boolean }[] }>('/api/events?reviewed=false');
    expect(unreviewed.status).toBe(200);
    expect(unreviewed.body.events.map((e) => e.reviewed)).toEqual([false, false]);
    expect((await get<{ events: unknown[] }>('/api/events?verdict=true-positive')).body.events).toHaveLength(1);
    expect((await get<{ events: unknown[] }>('/api/events?verdict=none&camera=front')).body.events).toHaveLength(2);
    const bad = await get<{ error: { issues: { path: string }[] } }>('/api/events?reviewed=yes');
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i) => i.path)).toEqual(['reviewed']);
  });

  it('counts matching and unreviewed events', async () => {
    expect((await get('/api/events/counts')).body).toEqual({ total: 3, unreviewed: 2 });
    expect((await get(`/api/events/counts?after=${D0 + 30 * HOUR}`)).body).toEqual({ total: 2, unreviewed: 1 });
    expect((await get('/api/events/counts?reviewed=true')).body).toEqual({ total: 1, unreviewed: 0 });
  });

  it('lists the days with events in the asked time zone (default UTC)', async () => {
    expect((await get('/api/events/days')).body).toEqual({
      days: [
        { day: '2026-11-28', count: 1, unreviewed: 1 },
        { day: '2026-11-29', count: 1, unreviewed: 1 },
        { day: '2026-11-30', count: 1, unreviewed: 0 },
      ],
    });
    const berlin = await get<{ days: { day: string; count: number }[] }>(`/api/events/days?tz=Europe/Berlin&after=${D0}&before=${D0 + 3 * 24 * HOUR}`);
    expect(berlin.body.days.map((d) => [d.day, d.count])).toEqual([['2026-11-29', 2], ['2026-11-30', 1]]);
    const fromTo = await get<{ days: { day: string }[] }>(`/api/events/days?from=${new Date(D0 + DAY_MS).toISOString()}&to=${D0 + 2 * DAY_MS}`);
    expect(fromTo.body.days.map((d) => d.day)).toEqual(['2026-11-29']);
    const bad = await get<{ error: { message: string } }>('/api/events/days?tz=Mars/Olympus');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('unknown time zone');
  });
});
