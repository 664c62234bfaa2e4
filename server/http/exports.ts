// /api/exports: MP4 clips of a camera's recording (a time range, or an event's recording range), cut by stream copy
// in the background, optionally with the stored evaluations' boxes burned in; progress while they run; the file
// with Range requests once done; kept until deleted.
import { basename, dirname } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CameraManager } from '../cameras/manager.ts';
import type { ExportRecord } from '../../pipelines/store/exports.ts';
import type { EventRepository } from '../rules/ports.ts';
import { NoRecordingError, type Exporter, type ExportRows } from '../exports/exporter.ts';
import type { EventClips } from '../exports/event-clips.ts';
import { Errors, invalid } from './errors.ts';
import { ErrorSchema } from './schemas.ts';
import { EventParams } from './rule-schemas.ts';
import { zodRoute } from './validate.ts';
import { access } from '../auth/roles.ts';

export interface ExportRouteDeps {
  cameras: CameraManager;
  events: Pick<EventRepository, 'get'>;
  exporter: Pick<Exporter, 'create' | 'delete'>;
  rows: Pick<ExportRows, 'get' | 'list' | 'filePath'>;
  /** An event's recording as an MP4 on request (/api/events/:id/clip.mp4). */
  clips?: Pick<EventClips, 'file'>;
}

/** Longest clip: an hour (stream copy writes it in seconds; a burn-in encodes it). */
export const MAX_EXPORT_MS = 60 * 60_000;

const time = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    const n = typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    if (!Number.isFinite(n)) ctx.addIssue({ code: 'custom', message: 'expected epoch milliseconds or an ISO 8601 date' });
    return n;
  })
  .describe('epoch ms or ISO 8601 date');
const burnBoxes = z.boolean().default(false).describe("Re-encode the clip's video with the stored evaluations' boxes drawn on it.");
export const ExportRequestSchema = z.union([
  z.strictObject({ camera: z.string().min(1).max(128), from: time, to: time, burnBoxes }),
  z.strictObject({ event: z.string().min(1).max(128).describe("An event: its recording range (start - pre to end + post)."), burnBoxes }),
]);
export const ExportInfoSchema = z.object({
  id: z.string(),
  camera: z.string(),
  from: z.number(),
  to: z.number(),
  event: z.string().nullable(),
  burnBoxes: z.boolean(),
  state: z.enum(['queued', 'running', 'done', 'failed']),
  progress: z.number().describe('0..1'),
  error: z.string().nullable().describe('Why it failed.'),
  bytes: z.number().nullable(),
  duration: z.number().nullable().describe('Seconds of video, once done.'),
  author: z.string(),
  createdAt: z.number(),
  finishedAt: z.number().nullable(),
  file: z.string().describe('URL of the MP4 (once done).'),
});
const IdParams = z.object({ id: z.string().min(1).max(64).regex(/^[0-9A-Z]+$/, 'an export id') });

const err = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ErrorSchema]));
type IdReq = FastifyRequest<{ Params: { id: string } }>;
const missing = (id: string) => Errors.NOT_FOUND(`no export "${id}" (deleted?)`);
const info = (r: ExportRecord) => ({ ...r, file: `/api/exports/${r.id}/file` });

export function exportRoutes(app: FastifyInstance, d: ExportRouteDeps): void {
  if (d.clips) eventClipRoute(app, d.events, d.clips);
  app.post(
    '/api/exports',
    { config: { access: 'operator', audit: 'export-created' }, ...zodRoute({ summary: 'Export an MP4 clip of a time range or of an event (runs in the background)', body: ExportRequestSchema, response: { 202: ExportInfoSchema, ...err(400, 404, 409) } }) },
    async (req: FastifyRequest<{ Body: z.output<typeof ExportRequestSchema> }>, reply) => {
      const range = await rangeOf(d, req.body);
      if (!d.cameras.get(range.camera)) throw Errors.NOT_FOUND(`no camera "${range.camera}"`);
      const rec = await d.exporter.create({ ...range, burnBoxes: req.body.burnBoxes, author: req.principal?.name ?? 'local' }).catch((e: unknown) => {
        if (e instanceof NoRecordingError) throw Errors.NOT_FOUND(e.message);
        throw e;
      });
      return reply.code(202).send(info(rec));
    },
  );
  app.get('/api/exports', { ...access('viewer'), ...zodRoute({ summary: 'Exports, newest first', response: { 200: z.object({ exports: z.array(ExportInfoSchema) }) } }) }, async () => ({
    exports: (await d.rows.list()).map(info),
  }));
  app.get('/api/exports/:id', { ...access('viewer'), ...zodRoute({ summary: "An export's state and progress", params: IdParams, response: { 200: ExportInfoSchema, ...err(404) } }) }, async (req: IdReq) => {
    const rec = await d.rows.get(req.params.id);
    if (!rec) throw missing(req.params.id);
    return info(rec);
  });
  app.get('/api/exports/:id/file', { ...access('viewer', true), ...zodRoute({ summary: "An export's MP4 (video/mp4, Range requests)", params: IdParams, response: err(404, 409) }) }, async (req: IdReq, reply) => {
    const rec = await d.rows.get(req.params.id);
    if (!rec) throw missing(req.params.id);
    if (rec.state !== 'done') throw Errors.CONFLICT(`export "${rec.id}" is ${rec.state}${rec.error ? `: ${rec.error}` : ''}; its file exists once it is done`);
    const path = d.rows.filePath(rec.id);
    const name = `${rec.camera}-${new Date(rec.from).toISOString().replace(/[:.]/g, '-')}.mp4`.replace(/[^\w.-]/g, '_');
    reply.header('content-disposition', `inline; filename="${name}"`).header('x-content-type-options', 'nosniff').type('video/mp4');
    return reply.sendFile(basename(path), dirname(path), { cacheControl: false, etag: true, lastModified: true, dotfiles: 'deny', index: false });
  });
  app.delete('/api/exports/:id', { config: { access: 'operator', audit: 'export-deleted' }, ...zodRoute({ summary: 'Delete an export (cancels it if it runs) and its file', params: IdParams, response: { 200: z.object({ deleted: z.string() }), ...err(404) } }) }, async (req: IdReq) => {
    if (!(await d.exporter.delete(req.params.id))) throw missing(req.params.id);
    return { deleted: req.params.id };
  });
}

/** The `clip` link of notifications: follows an open event as it grows (its next segment makes a new clip). */
function eventClipRoute(app: FastifyInstance, events: ExportRouteDeps['events'], clips: Pick<EventClips, 'file'>): void {
  app.get(
    '/api/events/:id/clip.mp4',
    { ...access('viewer', true), ...zodRoute({ summary: "An event's recording range as an MP4 (video/mp4, Range requests): cut by stream copy on the first request, then reused", params: EventParams, response: err(404) }) },
    async (req: IdReq, reply) => {
      const ev = await events.get(req.params.id);
      if (!ev) throw Errors.NOT_FOUND(`no event "${req.params.id}" (deleted, or removed by retention)`);
      const path = await clips.file(ev).catch((e: unknown) => {
        if (e instanceof NoRecordingError) throw Errors.NOT_FOUND(`event "${ev.id}": ${e.message}`);
        throw e;
      });
      const name = `${ev.camera}-${ev.rule}-${new Date(ev.startPdt).toISOString().replace(/[:.]/g, '-')}.mp4`.replace(/[^\w.-]/g, '_');
      reply.header('content-disposition', `inline; filename="${name}"`).header('x-content-type-options', 'nosniff').type('video/mp4');
      return reply.sendFile(basename(path), dirname(path), { cacheControl: false, etag: true, lastModified: true, dotfiles: 'deny', index: false });
    },
  );
}

async function rangeOf(d: ExportRouteDeps, body: z.output<typeof ExportRequestSchema>): Promise<{ camera: string; from: number; to: number; event?: string }> {
  if ('event' in body) {
    const ev = await d.events.get(body.event);
    if (!ev) throw Errors.NOT_FOUND(`no event "${body.event}" (deleted, or removed by retention)`);
    // An open event's recording runs up to now.
    const to = ev.recording.to ?? Date.now();
    return check({ camera: ev.camera, from: ev.recording.from, to, event: ev.id });
  }
  return check({ camera: body.camera, from: body.from, to: body.to });
}

function check<T extends { from: number; to: number }>(r: T): T {
  if (r.to <= r.from) throw invalid('invalid request body', [{ path: 'to', message: 'must be after from' }]);
  if (r.to - r.from > MAX_EXPORT_MS) throw invalid('invalid request body', [{ path: 'to', message: `a clip is at most ${MAX_EXPORT_MS / 60_000} minutes: export a shorter range` }]);
  return r;
}
