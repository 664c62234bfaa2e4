// Video files: each camera's live HLS folder, and its recorded segments, both with Range requests
// (@fastify/send). Names are validated by the route schema, and send refuses anything resolving
// outside the folder it is given.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CameraManager } from '../cameras/manager.ts';
import { Errors } from './errors.ts';
import { access } from '../auth/roles.ts';
import { HlsParams, SegmentParams, jsonSchema } from './schemas.ts';

export interface MediaDeps {
  cameras: CameraManager;
  /** Live HLS folder of a camera (pipelines/ingest/paths.ts cameraHlsDir). */
  hlsDirOf: (cameraId: string) => string;
  /** Where segments go when they leave the live folder (cameraRecordingDir). */
  recordingDirOf: (cameraId: string) => string;
  /** A video ticket for a caller who authenticated with `?token=` (server/auth/service.ts videoTicket). */
  videoTicket?: (p: NonNullable<FastifyRequest['principal']>) => string | null;
}

type FileRequest = FastifyRequest<{ Params: { camera: string; file: string } }>;

const PLAYLIST_CACHE = 'no-cache, no-store, must-revalidate';
// Players fetch each segment once; a name can come back in a later run after a crash, so never let
// a cache answer for it.
const SEGMENT_CACHE = 'no-cache';
const PLAYLIST_WAIT_MS = 4000;

export function mediaRoutes(app: FastifyInstance, d: MediaDeps): void {
  // Read-only video: the one place a `?token=` query parameter is accepted (players that cannot set headers).
  app.get('/hls/:camera/:file', { ...access('viewer', true), schema: { params: jsonSchema(HlsParams) } }, async (req: FileRequest, reply) => {
    const { camera, file } = req.params;
    const state = cameraState(d, camera);
    if (file.endsWith('.m3u8')) {
      const dir = d.hlsDirOf(camera);
      // A camera turns live with its first frame, a moment before its first segment is listed: hold a
      // playlist request briefly instead of answering 404 to a player that came right on time.
      if (state === 'live' || state === 'connecting') await waitForFile(join(dir, file), PLAYLIST_WAIT_MS, req);
      const viaQuery = req.principal?.via === 'token' && new URL(req.url, 'http://x').searchParams.has('token');
      const ticket = viaQuery ? d.videoTicket?.(req.principal!) : null;
      if (ticket) return sendPlaylistWithTicket(reply, join(dir, file), ticket);
      return sendMedia(reply, file, dir, PLAYLIST_CACHE, false);
    }
    // A segment the player still lists may have just been retired to recordings (window slide, or a new
    // run sweeping the folder): serve it from there rather than stall the player with a 404.
    const live = d.hlsDirOf(camera);
    const dir = existsSync(join(live, file)) ? live : d.recordingDirOf(camera);
    return sendMedia(reply, file, dir, SEGMENT_CACHE, true);
  });
  app.get('/recordings/:camera/:file', { ...access('viewer', true), schema: { params: jsonSchema(SegmentParams) } }, async (req: FileRequest, reply) => {
    const { camera, file } = req.params;
    cameraState(d, camera);
    // The index gets a segment's row just before its file moves out of the live folder (rows before files): a VOD
    // playlist may list it a moment before it arrives here, so look in the live folder too.
    const rec = d.recordingDirOf(camera);
    const dir = existsSync(join(rec, file)) ? rec : existsSync(join(d.hlsDirOf(camera), file)) ? d.hlsDirOf(camera) : rec;
    return sendMedia(reply, file, dir, SEGMENT_CACHE, true);
  });
}

function cameraState(d: MediaDeps, id: string): string {
  const cam = d.cameras.get(id);
  if (!cam) throw Errors.NOT_FOUND(`no camera "${id}"`);
  return cam.state;
}

function sendMedia(reply: FastifyReply, file: string, dir: string, cacheControl: string, validators: boolean): FastifyReply {
  // A live playlist is rewritten in place: no ETag/Last-Modified that could answer 304 for a new one.
  reply.header('cache-control', cacheControl).header('x-content-type-options', 'nosniff');
  return reply.sendFile(file, dir, { cacheControl: false, etag: validators, lastModified: validators, dotfiles: 'deny', index: false });
}

/**
 * A player that authenticates with `?token=` (it cannot set headers) resolves the playlist's relative segment URIs
 * without the query: each URI gets a video ticket (never the token itself), so its segment requests carry one.
 */
async function sendPlaylistWithTicket(reply: FastifyReply, path: string, ticket: string): Promise<FastifyReply> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw Errors.NOT_FOUND('file not found');
  }
  const q = `ticket=${encodeURIComponent(ticket)}`;
  const withToken = (uri: string) => `${uri}${uri.includes('?') ? '&' : '?'}${q}`;
  const out = text
    .split('\n')
    .map((line) => (line && !line.startsWith('#') ? withToken(line.trim()) : line.replace(/URI="([^"]+)"/, (_m, uri: string) => `URI="${withToken(uri)}"`)))
    .join('\n');
  return reply.header('cache-control', PLAYLIST_CACHE).header('x-content-type-options', 'nosniff').type('application/vnd.apple.mpegurl').send(out);
}

async function waitForFile(path: string, ms: number, req: FastifyRequest): Promise<void> {
  const end = Date.now() + ms;
  while (!existsSync(path) && Date.now() < end && !req.raw.destroyed) await new Promise((r) => setTimeout(r, 100));
}
