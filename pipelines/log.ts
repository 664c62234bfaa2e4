// The logger type every stage takes by injection. Stages never import server/log.ts: the composition
// root owns the root logger and hands each stage a child with its bindings (camera id, run, component).
import { pino, type Logger } from 'pino';

export type { Logger };

/** For stages built without a logger (tests, one-off tools): logs nothing. */
export const silentLogger: Logger = pino({ level: 'silent' });
