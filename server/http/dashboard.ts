// The built dashboard (client/dist) through @fastify/static, and the not-found path: unknown API, HLS
// and recording paths are JSON 404s; any other extension-less GET is a dashboard route (SPA fallback to
// index.html); a missing asset is a real 404.
import { existsSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Errors } from './errors.ts';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';
const SERVER_PATHS = /^\/(api|hls|recordings|socket\.io)(\/|$)/;

export async function dashboardRoutes(app: FastifyInstance, clientDir: string): Promise<void> {
  const root = resolve(clientDir) + sep;
  const assets = join(root, 'assets') + sep;
  await app.register(fastifyStatic, {
    root: clientDir,
    prefix: '/',
    index: 'index.html',
    dotfiles: 'ignore',
    cacheControl: false,
    suppressWarning: !existsSync(clientDir),
    // Vite fingerprints everything under assets/; index.html must be revalidated to pick up a new build.
    // (The decorator is shared with the media routes, which set their own cache policy.)
    setHeaders: (reply, path) => {
      if (path.startsWith(root)) reply.header('cache-control', path.startsWith(assets) ? IMMUTABLE : REVALIDATE);
    },
  });
  app.setNotFoundHandler((req, reply) => notFound(req, reply, clientDir));
}

function notFound(req: FastifyRequest, reply: FastifyReply, clientDir: string): FastifyReply {
  const path = req.url.split('?')[0] as string;
  // A route matched (a file route whose file is missing) or a server path: never the dashboard.
  if (req.routeOptions.url !== undefined && !req.routeOptions.url.endsWith('*')) throw Errors.NOT_FOUND('file not found');
  if (SERVER_PATHS.test(path) || (req.method !== 'GET' && req.method !== 'HEAD')) throw Errors.NOT_FOUND(`no route ${req.method} ${path}`);
  if (!existsSync(join(clientDir, 'index.html'))) throw Errors.DASHBOARD_NOT_BUILT();
  if (extname(path)) throw Errors.NOT_FOUND(`no file ${path}`);
  return reply.header('cache-control', REVALIDATE).sendFile('index.html', clientDir, { cacheControl: false });
}
