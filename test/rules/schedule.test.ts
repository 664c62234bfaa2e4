// Schedules: weekly windows in an IANA zone, checked on the local wall clock of the instant (DST-safe), with
// windows that run past midnight belonging to the day they start on.
import { describe, it, expect } from 'vitest';
import { inSchedule } from '../../pipelines/rules/schedule.ts';
import { ScheduleSchema, type Schedule } from '../../config/rule.ts';

const sched = (s: unknown): Schedule => ScheduleSchema.parse(s);
const at = (iso: string) => Date.parse(iso);

describe('inSchedule', () => {
  it('is always on without a schedule', () => {
    expect(inSchedule(undefined, at('2026-03-01T03:00:00Z'))).toBe(true);
  });

  it('checks a weekday window in its own time zone', () => {
    const office = sched({ timezone: 'Europe/Berlin', windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:00', end: '18:00' }] });
    // Mon 2 Feb 2026: Berlin is UTC+1.
    expect(inSchedule(office, at('2026-02-02T06:59:00Z'))).toBe(false); // 07:59 local
    expect(inSchedule(office, at('2026-02-02T07:00:00Z'))).toBe(true); // 08:00 local: start included
    expect(inSchedule(office, at('2026-02-02T16:59:00Z'))).toBe(true);
    expect(inSchedule(office, at('2026-02-02T17:00:00Z'))).toBe(false); // 18:00 local: end excluded
    expect(inSchedule(office, at('2026-02-07T10:00:00Z'))).toBe(false); // Saturday
  });

  it('keeps local hours across a DST change (Berlin, spring forward on 29 Mar 2026, back on 25 Oct)', () => {
    const office = sched({ timezone: 'Europe/Berlin', windows: [{ start: '08:00', end: '18:00' }] });
    // Saturday before the change: 08:00 local is 07:00 UTC; Monday after: 08:00 local is 06:00 UTC.
    expect(inSchedule(office, at('2026-03-28T07:00:00Z'))).toBe(true);
    expect(inSchedule(office, at('2026-03-28T06:30:00Z'))).toBe(false);
    expect(inSchedule(office, at('2026-03-30T06:00:00Z'))).toBe(true);
    expect(inSchedule(office, at('2026-03-30T05:59:00Z'))).toBe(false);
    expect(inSchedule(office, at('2026-03-30T15:59:00Z'))).toBe(true); // 17:59 CEST
    expect(inSchedule(office, at('2026-03-30T16:00:00Z'))).toBe(false); // 18:00 CEST
    // After the change back, 08:00 local is 07:00 UTC again.
    expect(inSchedule(office, at('2026-10-26T06:30:00Z'))).toBe(false);
    expect(inSchedule(office, at('2026-10-26T07:00:00Z'))).toBe(true);
  });

  it('runs a night window past midnight, on the day it starts, through a DST night', () => {
    const night = sched({ timezone: 'America/New_York', windows: [{ days: ['sat'], start: '22:00', end: '06:00' }] });
    // Sat 7 Mar 2026 22:00 EST = Sun 03:00 UTC; the clocks spring forward at 02:00 that night.
    expect(inSchedule(night, at('2026-03-08T02:59:00Z'))).toBe(false); // Sat 21:59 EST
    expect(inSchedule(night, at('2026-03-08T03:00:00Z'))).toBe(true); // Sat 22:00 EST
    expect(inSchedule(night, at('2026-03-08T07:30:00Z'))).toBe(true); // Sun 03:30 EDT (02:xx never happened)
    expect(inSchedule(night, at('2026-03-08T09:59:00Z'))).toBe(true); // Sun 05:59 EDT
    expect(inSchedule(night, at('2026-03-08T10:00:00Z'))).toBe(false); // Sun 06:00 EDT
    // Friday night is not in a window that starts on Saturdays; Sunday night neither.
    expect(inSchedule(night, at('2026-03-07T04:00:00Z'))).toBe(false); // Fri 23:00 EST
    expect(inSchedule(night, at('2026-03-09T03:00:00Z'))).toBe(false); // Sun 23:00 EDT
  });

  it('treats 24:00 as the end of the day and end == start as a full day from start', () => {
    const evening = sched({ timezone: 'UTC', windows: [{ days: ['mon'], start: '18:00', end: '24:00' }] });
    expect(inSchedule(evening, at('2026-02-02T23:59:00Z'))).toBe(true); // Monday
    expect(inSchedule(evening, at('2026-02-03T00:00:00Z'))).toBe(false); // Tuesday 00:00
    const day = sched({ timezone: 'UTC', windows: [{ days: ['mon'], start: '12:00', end: '12:00' }] });
    expect(inSchedule(day, at('2026-02-03T11:59:00Z'))).toBe(true); // Tue morning: still Monday's window
    expect(inSchedule(day, at('2026-02-03T12:00:00Z'))).toBe(false);
  });

  it('falls back to the given default zone, then the server zone', () => {
    const s = sched({ windows: [{ start: '09:00', end: '10:00' }] });
    expect(inSchedule(s, at('2026-02-02T00:30:00Z'), 'Asia/Tokyo')).toBe(true); // 09:30 JST
    expect(inSchedule(s, at('2026-02-02T00:30:00Z'), 'UTC')).toBe(false);
  });
});
