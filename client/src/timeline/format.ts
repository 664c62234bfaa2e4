// Times and durations as the timeline shows them (the browser's time zone).
import type { EventInfo } from '../../../server/wire.ts';

export const DAY_MS = 86_400_000;

export function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function dateTime(ms: number): string {
  return new Date(ms).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** "1m 05s", "12s", or "open" for an event still going on. */
export function duration(e: Pick<EventInfo, 'startPdt' | 'endPdt' | 'state'>): string {
  if (e.endPdt === null) return 'open';
  const s = Math.max(0, Math.round((e.endPdt - e.startPdt) / 1000));
  if (s < 60) return `${s}s${e.state === 'open' ? '+' : ''}`;
  const m = Math.floor(s / 60);
  return `${m}m ${String(s % 60).padStart(2, '0')}s${e.state === 'open' ? '+' : ''}`;
}

/** Local midnight of the day holding `ms`. */
export function dayStart(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** Local midnight `n` days later (DST-safe: calendar days, not 24 h steps). */
export function addDays(ms: number, n: number): number {
  const d = new Date(ms);
  d.setDate(d.getDate() + n);
  return dayStart(d.getTime());
}

/** yyyy-mm-dd of the local day (the `days` API's key). */
export function dayKey(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export function parseDayKey(key: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key);
  return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).getTime() : null;
}
