// The restart policy as data (normal backoff, slow retries after repeated 401s) and the rate-limited state log.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { IngestSchema } from '../../config/schema.ts';
import { escalatedDelay } from '../../pipelines/backoff.ts';
import { failure } from '../../pipelines/ingest/exit-reason.ts';
import { formatDelay, RestartPlan } from '../../pipelines/ingest/restart-plan.ts';
import { StateChangeLog } from '../../pipelines/ingest/state-log.ts';

const ingest = IngestSchema.parse({});
const auth = failure('auth', 'authentication failed (401)', 'check the user and password');
const refused = failure('refused', 'connection refused', 'check the port');

describe('RestartPlan', () => {
  it('retries 401s at the normal pace twice, then waits minutes, growing, and says so', () => {
    const plan = new RestartPlan(ingest.backoff, ingest.authBackoff);
    const steps = Array.from({ length: 7 }, () => plan.next(auth, 0));
    expect(steps.map((s) => s.delayMs)).toEqual([500, 1000, 300_000, 600_000, 1_200_000, 2_400_000, 3_600_000]);
    expect(steps[0]!.reason).toBe('authentication failed (401): check the user and password');
    expect(steps[2]!.reason).toBe('authentication failed (401) 3 times; next try in 5 min: check the user and password');
    expect(steps[6]!.reason).toBe('authentication failed (401) 7 times; next try in 1 h: check the user and password');
  });

  it('other failures in between keep the 401 count; only a live run clears it', () => {
    const plan = new RestartPlan(ingest.backoff, ingest.authBackoff);
    plan.next(auth, 0);
    plan.next(auth, 0);
    expect(plan.next(refused, 0).delayMs).toBeLessThanOrEqual(5000);
    expect(plan.next(auth, 0).delayMs).toBe(300_000);
    plan.next(refused, 60_000); // live for a minute
    expect(plan.next(auth, 0).delayMs).toBeLessThanOrEqual(5000);
  });

  it('escalatedDelay and formatDelay', () => {
    expect(escalatedDelay({ freeRetries: 0, initialMs: 1000, maxMs: 4000, factor: 2 }, 4)).toBe(4000);
    expect([45_000, 300_000, 5_400_000, 7_200_000].map(formatDelay)).toEqual(['45 s', '5 min', '1 h 30 min', '2 h']);
  });
});

describe('StateChangeLog', () => {
  const capture = () => {
    const lines: { level: number; msg: string; suppressed?: number }[] = [];
    const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    let t = 0;
    const states = new StateChangeLog(log, { repeatWindowMs: 60_000, now: () => t });
    return { lines, states, advance: (ms: number) => (t += ms) };
  };

  it('warns once per offline reason per window, then counts what it left out', () => {
    const { lines, states, advance } = capture();
    for (let i = 0; i < 10; i++) {
      states.change('connecting', null);
      states.change('offline', 'connection refused: check the port');
      advance(5000);
    }
    const warns = lines.filter((l) => l.level === 40);
    expect(warns.map((w) => w.msg)).toEqual(['camera offline: connection refused: check the port']);
    expect(lines.filter((l) => l.level === 30).map((l) => l.msg)).toEqual(['camera connecting']); // retries are debug
    advance(20_000); // past the window: logged again with the count
    states.change('offline', 'connection refused: check the port');
    expect(lines.filter((l) => l.level === 40).at(-1)).toMatchObject({ suppressed: 9, msg: 'camera offline: connection refused: check the port (9 repeated state lines suppressed since the last one)' });
    states.change('live', null);
    expect(lines.at(-1)).toMatchObject({ level: 30, msg: 'camera live' });
  });

  it('a camera flapping live/offline writes each line once per window', () => {
    const { lines, states, advance } = capture();
    for (let i = 0; i < 6; i++) {
      states.change('live', null);
      advance(3000);
      states.change('offline', 'camera closed the stream: reconnecting');
      advance(1000);
    }
    // The recovery after a written offline line is always written: the log never ends on a stale "offline".
    expect(lines.map((l) => l.msg)).toEqual(['camera live', 'camera offline: camera closed the stream: reconnecting', 'camera live']);
    advance(60_000);
    states.change('live', null);
    expect(lines.at(-1)).toMatchObject({ level: 30, suppressed: 9 });
  });

  it('a requested stop is info, not a warning', () => {
    const { lines, states } = capture();
    states.change('offline', 'stopped', true);
    expect(lines).toMatchObject([{ level: 30, msg: 'camera offline: stopped' }]);
  });
});
