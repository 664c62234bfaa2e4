// The HTTP layer on fastify: every request passes the request guard (Host, Origin), the path guard and the
// auth gate (server/auth/gate.ts: the role each route declares in `config.access`; undeclared means admin)
// before any route, errors leave as catalogue codes, and websocket upgrades go through the same guard and
// credential check before socket.io or /api/stream see them.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError } from '@fastify/error';
import type { Logger } from '../log.ts';
import { apiRoutes, type ApiDeps } from './api.ts';
import { dashboardRoutes } from './dashboard.ts';
import { Errors, errorHandler, refuseUpgrade, toVigilError } from './errors.ts';
import { mediaRoutes, type MediaDeps } from './media.ts';
import { registerOpenApi } from './openapi.ts';
import { ruleRoutes, type RuleRouteDeps } from './rules.ts';
import { eventRoutes, type EventRouteDeps } from './events.ts';
import { notifyRoutes, type NotifyRouteDeps } from './notify.ts';
import { vodRoutes, type VodDeps } from './vod.ts';
import { exportRoutes, type ExportRouteDeps } from './exports.ts';
import type { VigilMetrics } from '../metrics.ts';
import { checkPath } from './path-guard.ts';
import type { RequestGuard } from './request-guard.ts';
import { authRoutes } from './auth-routes.ts';
import { authHook } from '../auth/gate.ts';
import { access, type Access } from '../auth/roles.ts';
import type { AuthService } from '../auth/service.ts';

export interface HttpDeps extends ApiDeps, MediaDeps, Omit<RuleRouteDeps, 'cameras'>, EventRouteDeps {
  /** The recording index (VOD playlists, recorded extents). */
  recordings: VodDeps['recordings'];
  metrics: VigilMetrics;
  guard: RequestGuard;
  /** Video exports (/api/exports). */
  exports?: Pick<ExportRouteDeps, 'exporter' | 'rows' | 'clips'>;
  /** Dead letters and snoozes (/api/notifications, /api/snooze). */
  notify?: NotifyRouteDeps;
  /** Built dashboard (client/dist). */
  clientDir: string;
  log: Logger;
  auth: AuthService;
  /** Proxies whose X-Forwarded-* headers are believed (config server.trustedProxies). */
  trustedProxies: readonly string[];
  /** PEM certificate and key: serve HTTPS. */
  tls?: { cert: Buffer; key: Buffer };
}

export interface RouteEntry {
  method: string;
  url: string;
  /** What the route demands (its `config.access`); undefined means admin only. */
  access: Access | undefined;
  /** `?token=` accepted (read-only video). */
  queryToken: boolean;
}

/** Builds the fastify app (not listening yet; more routes may be added before listen). `routes` lists every route. */
export async function createHttp(d: HttpDeps): Promise<{ app: FastifyInstance; routes: RouteEntry[] }> {
  const app = Fastify({
    ...(d.tls ? { https: { cert: d.tls.cert, key: d.tls.key } } : {}),
    trustProxy: d.trustedProxies.length ? [...d.trustedProxies] : false,
    loggerInstance: d.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    // A URL the router cannot parse never reaches the hooks: the guard still answers first.
    frameworkErrors: (err, req, reply) => errorHandler(d.log)(d.guard.check(req.headers) ?? err, req, reply),
  });
  const routes: RouteEntry[] = [];
  let dashboardFiles = false;
  app.addHook('onRoute', (r) => {
    // The dashboard's files (the login page and its assets) are the public exception; @fastify/static takes no route config.
    if (dashboardFiles && r.config?.access === undefined) r.config = { ...r.config, access: 'public' };
    for (const method of [r.method].flat()) routes.push({ method, url: r.url, access: r.config?.access, queryToken: r.config?.queryToken === true });
  });
  app.decorateRequest('principal', null);
  app.setErrorHandler(errorHandler(d.log));
  app.addHook('onRequest', async (req) => {
    const refused = d.guard.check(req.headers);
    if (refused) throw refused;
    checkPath(req.raw.url ?? '/');
  });
  app.addHook('onRequest', authHook(d.auth));
  app.addHook('onResponse', async (req, reply) => {
    const action = req.routeOptions.config?.audit;
    if (!action || reply.statusCode >= 300) return;
    const params = req.params as { id?: string } | undefined;
    const body = req.body as { id?: unknown; verdict?: unknown; reviewed?: unknown } | undefined;
    const target = params?.id ?? (typeof body?.id === 'string' ? body.id : null);
    const detail = action === 'event-reviewed' ? JSON.stringify({ reviewed: body?.reviewed, verdict: body?.verdict }) : null;
    await d.auth.audit(req.principal?.name ?? 'local', action, target, detail, req.ip);
  });
  await registerOpenApi(app, d.version); // before the routes: it collects them as they are added
  apiRoutes(app, d);
  authRoutes(app, d);
  ruleRoutes(app, { ...d, cameras: d.cameras });
  eventRoutes(app, d);
  if (d.notify) notifyRoutes(app, d.notify);
  app.get('/metrics', access('metrics'), async (_req, reply) => {
    const { contentType, body } = await d.metrics.text();
    return reply.type(contentType).header('cache-control', 'no-store').send(body);
  });
  mediaRoutes(app, { ...d, videoTicket: (p) => d.auth.videoTicket(p) });
  if (d.exports) exportRoutes(app, { ...d.exports, cameras: d.cameras, events: d.events });
  vodRoutes(app, { cameras: d.cameras, recordings: d.recordings, hlsDirOf: d.hlsDirOf, runOf: (id) => d.cameras.get(id)?.run, evaluationsBetween: (...a) => d.events.evaluationsBetween(...a), videoTicket: (p) => d.auth.videoTicket(p) });
  dashboardFiles = true;
  await dashboardRoutes(app, d.clientDir);
  dashboardFiles = false;
  return { app, routes };
}

export interface UpgradeTarget {
  path: string;
  /** `path` is a prefix (socket.io's `/socket.io/`). */
  prefix?: boolean;
  handle(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void;
}

/**
 * The only 'upgrade' listener on the server (socket.io's own is detached by SocketHub): refuses foreign
 * Host/Origin and unsafe paths with a coded error, then a caller without credentials (401) or with a role
 * that may not (403), and only then hands the socket to its target (socket.io, /api/stream); anything
 * else is a 404.
 */
export function routeUpgrades(app: FastifyInstance, guard: RequestGuard, targets: UpgradeTarget[], gate: (req: IncomingMessage) => Promise<FastifyError | null>): void {
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const target = req.url ?? '/';
    const refused = guard.check(req.headers) ?? pathRefusal(target);
    if (refused) return refuseUpgrade(socket, refused);
    const url = new URL(target, 'http://localhost');
    const handler = targets.find((t) => (t.prefix ? url.pathname.startsWith(t.path) : t.path === url.pathname));
    if (!handler) return refuseUpgrade(socket, Errors.NOT_FOUND(`no websocket at ${url.pathname}`));
    socket.on('error', () => undefined); // a peer gone while its credentials are checked
    gate(req).then(
      (denied) => {
        if (denied) return refuseUpgrade(socket, denied);
        if (!socket.destroyed) handler.handle(req, socket, head, url);
      },
      (err: unknown) => {
        app.log.error({ err }, 'websocket credential check failed');
        refuseUpgrade(socket, Errors.INTERNAL());
      },
    );
  });
}

function pathRefusal(target: string): FastifyError | null {
  try {
    checkPath(target);
    return null;
  } catch (err) {
    return toVigilError(err);
  }
}
