// Event retention on a timer: events older than events.maxAgeDays (unless kept) and evaluations that belong
// to no event go, rows first and files after (the store's retain() keeps that order). Runs once shortly after
// start, then every interval; a failed pass is logged and the next one tries again.
import type { EventsConfig } from '../../config/rule.ts';
import type { RetentionResult } from '../../pipelines/store/events.ts';
import type { Logger } from '../log.ts';

export interface RetentionTarget {
  retain(cfg: EventsConfig, now?: number): Promise<RetentionResult>;
}

const FIRST_PASS_MS = 30_000;
const EVERY_MS = 10 * 60_000;

/** Starts the periodic pass; returns a stop function that waits for a pass in flight. */
export function startEventRetention(events: RetentionTarget, cfg: EventsConfig, log: Logger, everyMs = EVERY_MS): () => Promise<void> {
  let running: Promise<void> | null = null;
  const pass = () => {
    running ??= events
      .retain(cfg)
      .then((r) => log.debug({ retention: r }, 'event retention pass'))
      .catch((err: unknown) => log.warn({ err }, 'event retention pass failed; retrying at the next interval'))
      .finally(() => (running = null));
  };
  const first = setTimeout(pass, Math.min(FIRST_PASS_MS, everyMs));
  const timer = setInterval(pass, everyMs);
  first.unref();
  timer.unref();
  return async () => {
    clearTimeout(first);
    clearInterval(timer);
    await running;
  };
}
