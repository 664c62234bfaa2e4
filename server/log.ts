// One pino logger; modules take a child with their bindings (camera id, run, component).
import { pino } from 'pino';
import type { Logger } from '../pipelines/log.ts';

export type { Logger };

const level = process.env.VIGIL_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');

export const rootLogger: Logger = pino({
  level,
  base: undefined,
  redact: { paths: ['source', '*.source', 'url', '*.url', 'password', '*.password'], censor: '[redacted]' },
});

export function childLogger(bindings: Record<string, unknown>): Logger {
  return rootLogger.child(bindings);
}
