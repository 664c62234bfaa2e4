// HTTP errors as data: every failure leaves the server as `{ error: { status, code, message } }`.
import type { ServerResponse } from 'node:http';

export type HttpErrorCode = 'bad_request' | 'not_found' | 'method_not_allowed' | 'internal';

export interface ErrorBody {
  error: { status: number; code: HttpErrorCode; message: string };
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound = (what = 'not found') => new HttpError(404, 'not_found', what);
export const badRequest = (why: string) => new HttpError(400, 'bad_request', why);

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/** Writes `err` as the JSON error shape; anything that is not an HttpError becomes an opaque 500. */
export function sendError(res: ServerResponse, err: unknown): void {
  const e = err instanceof HttpError ? err : new HttpError(500, 'internal', 'internal server error');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body: ErrorBody = { error: { status: e.status, code: e.code, message: e.message } };
  sendJson(res, e.status, body);
}
