// HTTP routes: the JSON API, live HLS files per camera, and the dashboard with an SPA fallback.
// Every path is checked once (checkPath) before routing: no `.`/`..` segment, raw or percent-encoded,
// no encoded slash or NUL, so nothing can be resolved outside the folder a route serves.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { HealthInfo } from '../wire.ts';
import type { CameraManager } from '../cameras/manager.ts';
import { Router } from './router.ts';
import { HttpError, badRequest, notFound, sendError, sendJson } from './errors.ts';
import { insideFolder, sendFile } from './files.ts';
import type { Logger } from '../log.ts';

export interface RouteDeps {
  cameras: CameraManager;
  /** Live HLS folder of a camera (pipelines/ingest/paths.ts cameraHlsDir). */
  hlsDirOf: (cameraId: string) => string;
  /** Where segments go when they leave the live folder (cameraRecordingDir). */
  recordingDirOf: (cameraId: string) => string;
  /** Built dashboard (client/dist). */
  clientDir: string;
  version: string;
  startedAt: number;
  log: Logger;
}

const HLS_FILE = /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*\.(m3u8|ts|m4s|mp4)$/;
const PLAYLIST_CACHE = 'no-cache, no-store, must-revalidate';
// Players fetch each segment once; a name can come back in a later run after a crash, so never
// let a cache answer for it.
const SEGMENT_CACHE = 'no-cache';
const PLAYLIST_WAIT_MS = 4000;

export function buildRouter(d: RouteDeps): Router {
  const r = new Router();
  r.get('/api/health', (_req, res) => {
    const body: HealthInfo = {
      ok: true,
      version: d.version,
      uptimeSeconds: Math.round((Date.now() - d.startedAt) / 1000),
      cameras: d.cameras.list().length,
    };
    sendJson(res, 200, body);
  });
  r.get('/api/cameras', (_req, res) => sendJson(res, 200, d.cameras.list()));
  r.get('/api/cameras/:id', (_req, res, p) => {
    const cam = d.cameras.get(p.id as string);
    if (!cam) throw notFound(`no camera "${p.id}"`);
    sendJson(res, 200, cam);
  });
  r.get('/hls/:camera/:file', async (req, res, p) => {
    const id = p.camera as string;
    const file = p.file as string;
    if (!d.cameras.has(id)) throw notFound(`no camera "${id}"`);
    if (!HLS_FILE.test(file)) throw notFound('no such HLS file');
    let path = insideFolder(d.hlsDirOf(id), file);
    if (!path) throw notFound('no such HLS file');
    // A segment the player still lists may have just been retired to recordings (window slide, or a
    // new run sweeping the folder): serve it from there rather than stall the player with a 404.
    if (!file.endsWith('.m3u8') && !existsSync(path)) path = insideFolder(d.recordingDirOf(id), file) ?? path;
    const state = d.cameras.get(id)?.state;
    // A camera turns live with its first frame, a moment before its first segment is listed: hold a
    // playlist request briefly instead of answering 404 to a player that came right on time.
    if (file.endsWith('.m3u8') && (state === 'live' || state === 'connecting')) await waitForFile(path, PLAYLIST_WAIT_MS, req);
    await sendFile(req, res, path, file.endsWith('.m3u8') ? PLAYLIST_CACHE : SEGMENT_CACHE);
  });
  return r;
}

/** The request handler: path guard, routes, then the dashboard; all errors as JSON. */
export function createHandler(router: Router, d: RouteDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const rawPath = checkPath(req.url ?? '/');
      const url = new URL(rawPath + queryOf(req.url ?? ''), 'http://localhost');
      const hit = router.match(req.method ?? 'GET', rawPath);
      if (hit) return await hit.handler(req, res, hit.params, url);
      if (rawPath.startsWith('/api/') || rawPath === '/api' || rawPath.startsWith('/hls/')) throw notFound(`no route ${rawPath}`);
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed here`);
      await serveDashboard(req, res, rawPath, d.clientDir);
    } catch (err) {
      if (!(err instanceof HttpError)) d.log.error({ err, method: req.method }, 'request failed');
      sendError(res, err);
    }
  };
}

/** Returns the raw path of a request target, or throws 400 for anything that could climb out of a folder. */
export function checkPath(target: string): string {
  if (!target.startsWith('/')) throw badRequest('request target must be an absolute path');
  const raw = target.split('?')[0] as string;
  for (const seg of raw.split('/')) {
    let dec: string;
    try {
      dec = decodeURIComponent(seg);
    } catch {
      throw badRequest('malformed percent-encoding in path');
    }
    // Also refuse a double-encoded dot segment (%252e%252e): harmless here, but never legitimate.
    if (/^\.{1,2}$/.test(dec) || /[/\\\0]/.test(dec) || /^(\.|%2e){1,2}$/i.test(dec)) {
      throw badRequest('path segments ".", "..", encoded slashes and NUL are not allowed');
    }
  }
  if (raw.includes('//')) throw badRequest('empty path segment');
  return raw;
}

async function waitForFile(path: string, ms: number, req: IncomingMessage): Promise<void> {
  const end = Date.now() + ms;
  while (!existsSync(path) && Date.now() < end && !req.destroyed) await new Promise((r) => setTimeout(r, 100));
}

function queryOf(target: string): string {
  const q = target.indexOf('?');
  return q < 0 ? '' : target.slice(q);
}

async function serveDashboard(req: IncomingMessage, res: ServerResponse, rawPath: string, clientDir: string): Promise<void> {
  const index = join(clientDir, 'index.html');
  if (!existsSync(index)) {
    throw new HttpError(404, 'not_found', 'dashboard not built: run `npm run build:client`');
  }
  const rel = decodeURIComponent(rawPath).replace(/^\/+/, '');
  const file = rel ? insideFolder(clientDir, rel) : null;
  if (file && existsSync(file) && extname(file)) {
    const immutable = rel.startsWith('assets/');
    return sendFile(req, res, file, immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  }
  // SPA fallback: extension-less paths are dashboard routes; a missing asset is a real 404.
  if (extname(rel)) throw notFound(`no file ${rawPath}`);
  return sendFile(req, res, index, 'no-cache');
}
