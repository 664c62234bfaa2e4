// The timeline's calls to the events API. Filters map one to one onto /api/events query parameters; the
// `days` and `recordings` calls answer empty when the server predates them (the page still works, without dots or extents).
import type { EventDetail, EventInfo, RuleInfo } from '../../../server/wire.ts';

export interface EventFilters {
  camera?: string;
  rule?: string;
  severity?: string;
  /** 'true' | 'false' (the API's query form). */
  reviewed?: string;
  /** 'true-positive' | 'false-positive' | 'none'. */
  verdict?: string;
  /** Start-time range in epoch ms. */
  after?: number;
  before?: number;
}

export interface EventPage {
  events: EventInfo[];
  next: string | null;
}

export type Review = Partial<Pick<EventInfo, 'reviewed' | 'verdict' | 'note' | 'keep'>>;

export interface DayCount {
  day: string;
  count: number;
  unreviewed: number;
}

export interface Range {
  from: number;
  to: number;
}

export const PAGE_SIZE = 50;

/** The filters a `#/events?...` URL carries (the same names as the API's query; unknown or empty ones are ignored). */
export function filtersFromQuery(q: string): EventFilters {
  const p = new URLSearchParams(q);
  const f: EventFilters = {};
  for (const k of ['camera', 'rule', 'severity', 'reviewed', 'verdict'] as const) {
    const v = p.get(k);
    if (v) f[k] = v;
  }
  for (const k of ['after', 'before'] as const) {
    const v = Number(p.get(k) ?? NaN);
    if (p.get(k) && Number.isFinite(v)) f[k] = v;
  }
  return f;
}

export function query(f: EventFilters, extra: Record<string, string | number | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...f, ...extra })) if (v !== undefined && v !== '') q.set(k, String(v));
  return q.toString();
}

async function json<T>(res: Response): Promise<T> {
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { message?: string } | null;
    throw new Error(body?.message ?? `${res.status} ${res.statusText}`);
  }
  return (await res.json()) as T;
}

export async function fetchEvents(f: EventFilters, cursor: string | null, limit = PAGE_SIZE): Promise<EventPage> {
  return json(await fetch(`/api/events?${query(f, { limit, cursor: cursor ?? undefined })}`, { cache: 'no-store' }));
}

export async function fetchEvent(id: string): Promise<EventDetail | null> {
  const res = await fetch(`/api/events/${encodeURIComponent(id)}`, { cache: 'no-store' });
  if (res.status === 404) return null;
  return json(res);
}

export async function reviewEvent(id: string, review: Review): Promise<EventInfo> {
  return json(await fetch(`/api/events/${encodeURIComponent(id)}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(review) }));
}

export async function deleteEvent(id: string): Promise<void> {
  await json(await fetch(`/api/events/${encodeURIComponent(id)}`, { method: 'DELETE' }));
}

export async function fetchRules(): Promise<RuleInfo[]> {
  const res = await fetch('/api/rules', { cache: 'no-store' }).catch(() => null);
  return res?.ok ? ((await res.json()) as RuleInfo[]) : [];
}

/** Events per local day in [from, to) matching the filters (all but the time range); empty when unknown. */
export async function fetchDays(f: EventFilters, from: number, to: number): Promise<DayCount[]> {
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const res = await fetch(`/api/events/days?${query({ ...f, after: from, before: to }, { tz })}`, { cache: 'no-store' }).catch(() => null);
  return res?.ok ? ((await res.json()) as { days: DayCount[] }).days : [];
}

/** How many events match the filters, and how many of them are unreviewed; null when unknown. */
export async function fetchCounts(f: EventFilters): Promise<{ total: number; unreviewed: number } | null> {
  const res = await fetch(`/api/events/counts?${query(f)}`, { cache: 'no-store' }).catch(() => null);
  return res?.ok ? ((await res.json()) as { total: number; unreviewed: number }) : null;
}

/** Where a camera's recording exists in [from, to); empty when unknown. */
export async function fetchRecordings(camera: string, from: number, to: number): Promise<Range[]> {
  const res = await fetch(`/api/cameras/${encodeURIComponent(camera)}/recordings?${query({}, { from, to })}`, { cache: 'no-store' }).catch(() => null);
  return res?.ok ? ((await res.json()) as { ranges: Range[] }).ranges : [];
}
