// /api/events: stored events newest first with cursor paging, one event with its evaluations, review
// (reviewed, verdict, note, keep), delete, and the evidence images (JPEG; 404 once gone).
import { basename, dirname } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { EventRepository } from '../rules/ports.ts';
import { toEventInfo, type EventImage } from '../events-view.ts';
import { Errors, invalid } from './errors.ts';
import { ErrorSchema } from './schemas.ts';
import { EventCountsSchema, EventDaysQuerySchema, EventDaysSchema, EventDetailSchema, EventFilterSchema, EventImageParams, EventInfoSchema, EventPageSchema, EventParams, EventPatchSchema, EventQuerySchema } from './rule-schemas.ts';
import { zodRoute } from './validate.ts';
import { access } from '../auth/roles.ts';

export interface EventRouteDeps {
  events: EventRepository;
}

type IdReq = FastifyRequest<{ Params: { id: string } }>;

const err = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ErrorSchema]));
const missing = (id: string) => Errors.NOT_FOUND(`no event "${id}" (deleted, or removed by retention)`);

export function eventRoutes(app: FastifyInstance, d: EventRouteDeps): void {
  app.get(
    '/api/events',
    { ...access('viewer'), ...zodRoute({ summary: 'Events, newest first; `next` is the cursor of the following page', querystring: EventQuerySchema, response: { 200: EventPageSchema, ...err(400) } }) },
    async (req: FastifyRequest<{ Querystring: z.output<typeof EventQuerySchema> }>) => {
      const page = await d.events.list(req.query).catch(rethrow);
      return { events: page.events.map(toEventInfo), next: page.next };
    },
  );
  app.get(
    '/api/events/counts',
    { ...access('viewer'), ...zodRoute({ summary: "How many events match the list's filters, and how many of them are unreviewed", querystring: EventFilterSchema, response: { 200: EventCountsSchema, ...err(400) } }) },
    async (req: FastifyRequest<{ Querystring: z.output<typeof EventFilterSchema> }>) => d.events.counts(req.query),
  );
  app.get(
    '/api/events/days',
    { ...access('viewer'), ...zodRoute({ summary: 'Days with events (day picker dots), counted in time zone `tz`, oldest first', querystring: EventDaysQuerySchema, response: { 200: EventDaysSchema, ...err(400) } }) },
    async (req: FastifyRequest<{ Querystring: z.output<typeof EventDaysQuerySchema> }>) => {
      const { tz, from, to, ...filter } = req.query;
      return { days: await d.events.days({ ...filter, after: filter.after ?? from, before: filter.before ?? to }, tz) };
    },
  );
  app.get('/api/events/:id', { ...access('viewer'), ...zodRoute({ summary: 'One event with every evaluation that belongs to it', params: EventParams, response: { 200: EventDetailSchema, ...err(404) } }) }, async (req: IdReq) => {
    const found = await d.events.get(req.params.id);
    if (!found) throw missing(req.params.id);
    return { ...toEventInfo(found), evaluations: found.evaluations };
  });
  app.patch(
    '/api/events/:id',
    { config: { access: 'operator', audit: 'event-reviewed' }, ...zodRoute({ summary: 'Review an event: reviewed, verdict, note, keep', params: EventParams, body: EventPatchSchema, response: { 200: EventInfoSchema, ...err(400, 404) } }) },
    async (req: FastifyRequest<{ Params: { id: string }; Body: z.output<typeof EventPatchSchema> }>) => {
      const updated = await d.events.review(req.params.id, req.body).catch(rethrow);
      if (!updated) throw missing(req.params.id);
      return toEventInfo(updated);
    },
  );
  app.delete('/api/events/:id', { config: { access: 'operator', audit: 'event-deleted' }, ...zodRoute({ summary: 'Delete an event, its evaluations and its files', params: EventParams, response: { 200: z.object({ deleted: z.string() }), ...err(404) } }) }, async (req: IdReq) => {
    if (!(await d.events.get(req.params.id))) throw missing(req.params.id);
    await d.events.delete(req.params.id).catch(rethrow);
    return { deleted: req.params.id };
  });
  app.get(
    '/api/events/:id/:image',
    { ...access('viewer'), ...zodRoute({ summary: "An event's best frame (snapshot), its annotated copy, or the thumbnail cropped around the boxes (image/jpeg)", params: EventImageParams, response: err(404) }) },
    async (req: FastifyRequest<{ Params: { id: string; image: EventImage } }>, reply) => {
      const path = await d.events.filePath(req.params.id, req.params.image);
      if (!path) throw missing(req.params.id);
      // An open event's better frame may replace its files: revalidate, never serve a stale one.
      reply.header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').type('image/jpeg');
      return reply.sendFile(basename(path), dirname(path), { cacheControl: false, etag: true, lastModified: true, dotfiles: 'deny', index: false });
    },
  );
}

/** The store's coded refusals as API errors (anything else stays a 500). */
function rethrow(err: unknown): never {
  const e = err as { code?: unknown; message?: unknown };
  if (e?.code === 'BAD_CURSOR') throw invalid('invalid query', [{ path: 'cursor', message: String(e.message) }]);
  if (e?.code === 'EVENT_NOT_FOUND') throw Errors.NOT_FOUND(String(e.message));
  throw err;
}
