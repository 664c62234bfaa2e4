// The HTTP layer on fastify: every request passes the request guard (Host, Origin) and the path guard
// before any route, errors leave as catalogue codes, and websocket upgrades go through the same guard
// before socket.io or /api/stream see them.
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
import type { VigilMetrics } from '../metrics.ts';
import { checkPath } from './path-guard.ts';
import type { RequestGuard } from './request-guard.ts';

export interface HttpDeps extends ApiDeps, MediaDeps, Omit<RuleRouteDeps, 'cameras'>, EventRouteDeps {
  metrics: VigilMetrics;
  guard: RequestGuard;
  /** Dead letters and snoozes (/api/notifications, /api/snooze). */
  notify?: NotifyRouteDeps;
  /** Built dashboard (client/dist). */
  clientDir: string;
  log: Logger;
}

export interface RouteEntry {
  method: string;
  url: string;
}

/** Builds the fastify app (not listening yet; more routes may be added before listen). `routes` lists every route. */
export async function createHttp(d: HttpDeps): Promise<{ app: FastifyInstance; routes: RouteEntry[] }> {
  const app = Fastify({
    loggerInstance: d.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    // A URL the router cannot parse never reaches the hooks: the guard still answers first.
    frameworkErrors: (err, req, reply) => errorHandler(d.log)(d.guard.check(req.headers) ?? err, req, reply),
  });
  const routes: RouteEntry[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url });
  });
  app.setErrorHandler(errorHandler(d.log));
  app.addHook('onRequest', async (req) => {
    const refused = d.guard.check(req.headers);
    if (refused) throw refused;
    checkPath(req.raw.url ?? '/');
  });
  await registerOpenApi(app, d.version); // before the routes: it collects them as they are added
  apiRoutes(app, d);
  ruleRoutes(app, { ...d, cameras: d.cameras });
  eventRoutes(app, d);
  if (d.notify) notifyRoutes(app, d.notify);
  app.get('/metrics', async (_req, reply) => {
    const { contentType, body } = await d.metrics.text();
    return reply.type(contentType).header('cache-control', 'no-store').send(body);
  });
  mediaRoutes(app, d);
  await dashboardRoutes(app, d.clientDir);
  return { app, routes };
}

export interface UpgradeTarget {
  path: string;
  handle(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void;
}

/**
 * The first 'upgrade' listener on the server: refuses foreign Host/Origin and unsafe paths with a coded
 * error, hands `/socket.io/` to socket.io (attached after this listener; a refused socket reaches it
 * already ended, and its allowRequest refuses it again) and the other targets to their handler;
 * anything else is a 404.
 */
export function routeUpgrades(app: FastifyInstance, guard: RequestGuard, targets: UpgradeTarget[]): void {
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const target = req.url ?? '/';
    const refused = guard.check(req.headers) ?? pathRefusal(target);
    if (refused) return refuseUpgrade(socket, refused);
    const url = new URL(target, 'http://localhost');
    if (url.pathname.startsWith('/socket.io/')) return;
    const handler = targets.find((t) => t.path === url.pathname);
    if (handler) return handler.handle(req, socket, head, url);
    refuseUpgrade(socket, Errors.NOT_FOUND(`no websocket at ${url.pathname}`));
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
