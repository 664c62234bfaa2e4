// A small method + path router over node:http: exact segments and `:param` captures, nothing more.
// Paths are matched on the raw (still percent-encoded) segments; params are decoded once here, so a
// handler never sees an encoded `/` or `..` sneak past its own checks.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, badRequest } from './errors.ts';

export type Params = Record<string, string>;
export type Handler = (req: IncomingMessage, res: ServerResponse, params: Params, url: URL) => void | Promise<void>;

interface Route {
  method: string;
  parts: string[];
  /** The last part is `*rest`: matches one or more remaining segments, joined by `/`. */
  rest: boolean;
  handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  get(pattern: string, handler: Handler): this {
    const parts = pattern.split('/').filter(Boolean);
    const rest = parts.at(-1)?.startsWith('*') ?? false;
    this.routes.push({ method: 'GET', parts, rest, handler });
    return this;
  }

  /** Finds the handler for a request; null when no route matches the path. Throws 405 for a known path with another method. */
  match(method: string, pathname: string): { handler: Handler; params: Params } | null {
    const segs = pathname.split('/').filter(Boolean);
    let pathKnown = false;
    for (const r of this.routes) {
      const params = matchParts(r, segs);
      if (!params) continue;
      if (r.method === method || (method === 'HEAD' && r.method === 'GET')) return { handler: r.handler, params };
      pathKnown = true;
    }
    if (pathKnown) throw new HttpError(405, 'method_not_allowed', `${method} is not allowed here`);
    return null;
  }
}

function matchParts(r: Route, segs: string[]): Params | null {
  const fixed = r.rest ? r.parts.length - 1 : r.parts.length;
  if (r.rest ? segs.length <= fixed : segs.length !== fixed) return null;
  const params: Params = {};
  for (let i = 0; i < fixed; i++) {
    const p = r.parts[i] as string;
    const s = segs[i] as string;
    if (p.startsWith(':')) params[p.slice(1)] = decodeSegment(s);
    else if (p !== s) return null;
  }
  if (r.rest) params[(r.parts.at(-1) as string).slice(1)] = segs.slice(fixed).map(decodeSegment).join('/');
  return params;
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw badRequest('malformed percent-encoding in path');
  }
}
