// Every HTTP error Vigil sends, in one catalogue (@fastify/error, which upper-cases the codes: NOT_FOUND,
// FOREIGN_HOST, ...), and the one place that writes them:
// `{ error: { status, code, message } }` on routes, on the not-found path and on refused upgrades.
// Errors from fastify itself or its plugins (validation, bad Range, ...) are mapped onto the catalogue
// by status, so a client only ever sees these codes. A 5xx never shows its cause; the log has it.
import createError, { type FastifyError } from '@fastify/error';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from '../wire.ts';
import type { Logger } from '../log.ts';

export const Errors = {
  BAD_REQUEST: createError('BAD_REQUEST', '%s', 400),
  BAD_PATH: createError('BAD_PATH', 'path segments ".", "..", encoded slashes, empty segments and NUL are not allowed; request target must be an absolute path', 400),
  FOREIGN_HOST: createError(
    'foreign_host',
    'Host "%s" is not allowed (DNS-rebinding guard): open Vigil at localhost or 127.0.0.1, or add this name to server.allowedHosts',
    403,
  ),
  FOREIGN_ORIGIN: createError(
    'foreign_origin',
    'requests from pages at %s are refused: only the dashboard itself may call this server (behind a proxy that rewrites Host, add the origin to server.allowedOrigins)',
    403,
  ),
  /** Input that fails a schema: the message names each path and reason; `issues` lists them for forms. */
  INVALID: createError('INVALID', '%s', 400),
  FORBIDDEN: createError('FORBIDDEN', '%s', 403),
  UNAUTHORIZED: createError('UNAUTHORIZED', '%s', 401),
  LOGIN_FAILED: createError('LOGIN_FAILED', 'wrong user name or password', 401),
  /** Too many failed logins; the reply carries Retry-After. */
  RATE_LIMITED: createError('RATE_LIMITED', '%s', 429),
  CROSS_SITE: createError(
    'CROSS_SITE',
    'a change made with a session cookie must come from the dashboard itself (an Origin header, or Sec-Fetch-Site: same-origin); integrations use an API token (Authorization: Bearer)',
    403,
  ),
  NOT_FOUND: createError('NOT_FOUND', '%s', 404),
  CONFLICT: createError('CONFLICT', '%s', 409),
  /** A rule from the config file: the API and the dashboard may read it, never change it. */
  RULE_PROVISIONED: createError(
    'RULE_PROVISIONED',
    'rule "%s" comes from the config file and is read-only here: edit its entry under `rules:` in the config file and restart Vigil',
    409,
  ),
  NO_FRAME: createError('NO_FRAME', '%s', 409),
  ENGINE_UNAVAILABLE: createError('ENGINE_UNAVAILABLE', '%s', 503),
  DASHBOARD_NOT_BUILT: createError('DASHBOARD_NOT_BUILT', 'dashboard not built: run `npm run build:client` (the API still works)', 404),
  RANGE_NOT_SATISFIABLE: createError('RANGE_NOT_SATISFIABLE', 'the requested byte range is outside the file', 416),
  UNSUPPORTED: createError('UNSUPPORTED', '%s', 415),
  TOO_LARGE: createError('TOO_LARGE', '%s', 413),
  INTERNAL: createError('INTERNAL', 'internal server error', 500),
} as const;

export type ErrorCode = ReturnType<(typeof Errors)[keyof typeof Errors]>['code'];

const CODES = new Set<string>(Object.values(Errors).map((E) => E('').code));
const BY_STATUS: Record<number, (msg: string) => FastifyError> = {
  400: (m) => Errors.BAD_REQUEST(m),
  401: (m) => Errors.UNAUTHORIZED(m),
  403: (m) => Errors.FORBIDDEN(m),
  404: (m) => Errors.NOT_FOUND(m),
  409: (m) => Errors.CONFLICT(m),
  413: (m) => Errors.TOO_LARGE(m),
  415: (m) => Errors.UNSUPPORTED(m),
  416: () => Errors.RANGE_NOT_SATISFIABLE(),
};

/** The catalogue error for anything thrown: our own as is, a framework 4xx by status (else BAD_REQUEST), 5xx an opaque INTERNAL. */
export function toVigilError(err: unknown): FastifyError {
  const e = err as Partial<FastifyError> & { status?: number };
  if (typeof e?.code === 'string' && CODES.has(e.code) && e.statusCode) return e as FastifyError;
  const status = e?.statusCode ?? e?.status ?? 500;
  if (status >= 500) return Errors.INTERNAL();
  const message = typeof e?.message === 'string' && e.message ? e.message : (STATUS_CODES[status] ?? 'bad request');
  return (BY_STATUS[status] ?? BY_STATUS[400]!)(message);
}

export interface Issue {
  path: string;
  message: string;
}

/** A 400 naming every path and reason, in the message and as `issues` (a form can mark each field). */
export function invalid(what: string, issues: Issue[]): FastifyError {
  const err = Errors.INVALID(`${what}: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
  return Object.assign(err, { issues });
}

export function errorBody(err: FastifyError): ErrorBody {
  const issues = (err as FastifyError & { issues?: Issue[] }).issues;
  return { error: { status: err.statusCode ?? 500, code: err.code, message: err.message, ...(issues ? { issues } : {}) } };
}

/** Fastify error handler (also used for framework errors such as a malformed URL). */
export function errorHandler(log: Logger) {
  return (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const e = toVigilError(err);
    if ((e.statusCode ?? 500) >= 500 && e.code === 'INTERNAL') log.error({ err, method: req.method, url: req.url }, 'request failed');
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    const retryAfter = (e as FastifyError & { retryAfter?: number }).retryAfter;
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    return reply.code(e.statusCode ?? 500).type('application/json; charset=utf-8').header('cache-control', 'no-store').send(errorBody(e));
  };
}

/** Answers a raw HTTP request fastify never saw (socket.io polling) with a catalogue error. */
export function refuseRequest(res: ServerResponse, err: FastifyError): void {
  const text = JSON.stringify(errorBody(err));
  res.writeHead(err.statusCode ?? 500, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) }).end(text);
}

/** Answers a websocket upgrade with a catalogue error and closes the connection. */
export function refuseUpgrade(socket: Duplex, err: FastifyError): void {
  const status = err.statusCode ?? 500;
  const text = JSON.stringify(errorBody(err));
  socket.on('error', () => undefined); // the peer may already be gone
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}
