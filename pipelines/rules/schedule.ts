// Schedule: whether a rule is evaluated at a given video instant. Windows are weekly, in an IANA time zone, and
// are checked against the local wall clock of that instant (Intl), so a DST change moves nothing: "08:00-18:00"
// is 08:00-18:00 local on the short and the long day alike. `days` are the days a window STARTS on, so
// "fri 22:00-06:00" covers Friday night into Saturday morning, not Saturday night.
import type { Schedule } from '../../config/rule.ts';
import { WEEKDAYS } from '../../config/rule.ts';

type Weekday = (typeof WEEKDAYS)[number];
const DAY_MINUTES = 24 * 60;

/** True when `pdt` (ms since the epoch) falls in one of the windows. No schedule: always. */
export function inSchedule(schedule: Schedule | undefined, pdt: number, defaultTimeZone?: string): boolean {
  if (!schedule) return true;
  const { day, minutes } = localTime(pdt, schedule.timezone ?? defaultTimeZone ?? systemTimeZone());
  const yesterday = WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7]!;
  return schedule.windows.some((w) => {
    const start = toMinutes(w.start);
    const end = toMinutes(w.end);
    const days = w.days as ReadonlyArray<Weekday>;
    if (start < end) return days.includes(day) && minutes >= start && minutes < end;
    // Past midnight (end <= start; equal means a full 24 hours from start): the evening part belongs to the day it
    // starts on, the morning part to the day before.
    return (days.includes(day) && minutes >= start) || (days.includes(yesterday) && minutes < end);
  });
}

function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return Math.min(DAY_MINUTES, h * 60 + m);
}

// Building a DateTimeFormat costs far more than using one; the loop asks this for every rule and frame.
const formats = new Map<string, Intl.DateTimeFormat>();

function localTime(pdt: number, timeZone: string): { day: Weekday; minutes: number } {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formats.set(timeZone, f);
  }
  const parts = f.formatToParts(new Date(pdt));
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  return { day: get('weekday').toLowerCase() as Weekday, minutes: Number(get('hour')) * 60 + Number(get('minute')) };
}

function systemTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone;
}
