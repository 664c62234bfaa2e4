// The one check in front of everything: a fastify onRequest hook for every route (including the dashboard's
// files and the not-found path), and the same check for raw requests fastify never sees (socket.io polling,
// websocket upgrades). Each route's demand is its `config.access` (roles.ts); none declared means admin.
import type { IncomingMessage } from 'node:http';
import type { FastifyError } from '@fastify/error';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Errors } from '../http/errors.ts';
import { isLoopbackHost } from '../../config/schema.ts';
import { roleCovers, type Access, type AccessConfig } from './roles.ts';
import type { AuthService, Principal } from './service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling (set by the auth gate; null on public routes without credentials). */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    access?: Access;
    queryToken?: boolean;
    audit?: string;
  }
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
const SERVER_PATHS = /^\/(api|hls|recordings|socket\.io|metrics)(\/|$)/;

/** What a request needs: its route's declaration; the not-found path is public for dashboard pages only. */
export function accessOf(req: FastifyRequest): { access: Access; queryToken: boolean } {
  const cfg = req.routeOptions.config as AccessConfig | undefined;
  if (req.routeOptions.url === undefined) {
    const path = (req.url.split('?')[0] as string) ?? '/';
    return { access: SAFE.has(req.method) && !SERVER_PATHS.test(path) ? 'public' : 'viewer', queryToken: false };
  }
  return { access: cfg?.access ?? 'admin', queryToken: cfg?.queryToken === true };
}

export function authHook(auth: AuthService) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const need = accessOf(req);
    const query = need.queryToken && SAFE.has(req.method) ? new URL(req.url, 'http://x').searchParams : null;
    req.principal = await auth.identify({ headers: req.headers, queryToken: query?.get('token') ?? null, queryTicket: query?.get('ticket') ?? null });
    const refused = decide(need.access, req.principal, req.method, req.headers, req.ip);
    if (refused) throw refused;
  };
}

/** The refusal for a caller on a route of this access, or null. */
export function decide(need: Access, p: Principal | null, method: string, headers: IncomingMessage['headers'], ip: string): FastifyError | null {
  if (need === 'public') return null;
  if (need === 'metrics') return p || (isLoopbackHost(ip) && !headers['x-forwarded-for']) ? null : Errors.UNAUTHORIZED('metrics need an API token (Authorization: Bearer), or a scrape from this machine');
  if (!p) return Errors.UNAUTHORIZED('log in, or send an API token (Authorization: Bearer <token>)');
  if (!roleCovers(p.role, need)) return Errors.FORBIDDEN(`this needs the ${need} role; ${p.name} is ${p.role}`);
  // The cookie rides along on any request the browser sends: a change by cookie must come from the page itself.
  // The request guard already refused a foreign Origin; here a missing one is refused unless the browser vouches.
  if (p.via === 'session' && !SAFE.has(method) && headers.origin === undefined && headers['sec-fetch-site'] !== 'same-origin') return Errors.CROSS_SITE();
  return null;
}

/**
 * Checks a raw request (socket.io, websocket upgrades) as a viewer route; the principal rides on the request.
 * (A viewer route does not depend on the client address, so no forwarded header is read here.)
 */
export async function gateRaw(auth: AuthService, req: IncomingMessage): Promise<FastifyError | null> {
  const p = await auth.identify({ headers: req.headers });
  (req as IncomingMessage & { principal?: Principal | null }).principal = p;
  return decide('viewer', p, 'GET', req.headers, req.socket.remoteAddress ?? '');
}

export function principalOf(req: IncomingMessage): Principal | null {
  return (req as IncomingMessage & { principal?: Principal | null }).principal ?? null;
}
