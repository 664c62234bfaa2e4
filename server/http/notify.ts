// /api/notifications/dead (dead letters: messages that ran out of attempts, retriable) and /api/snooze
// (silence a rule, a camera, or a rule on a camera for N minutes; new events are not notified meanwhile).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { KyselyOutbox } from '../../pipelines/store/outbox.ts';
import { Errors } from './errors.ts';
import { ErrorSchema } from './schemas.ts';
import { zodRoute } from './validate.ts';
import { access } from '../auth/roles.ts';

export interface NotifyRouteDeps {
  outbox: Pick<KyselyOutbox, 'dead' | 'retry' | 'snooze' | 'snoozes' | 'unsnooze'>;
  /** A dead letter was put back: deliver it now. */
  kick: () => void;
  /** The configured channels, as a rule may name them (ids and types only: never URLs, topics or secrets). */
  channels: () => Array<{ id: string; type: 'webhook' | 'mqtt' }>;
}

const err = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ErrorSchema]));
const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

const DeadSchema = z.object({
  id: z.string().describe('Message id (the webhook-id).'),
  channel: z.string(),
  eventId: z.string(),
  kind: z.enum(['opened', 'updated', 'closed']),
  rule: z.string(),
  camera: z.string(),
  framePdt: z.number(),
  createdAt: z.number(),
  attempts: z.number(),
  lastError: z.string().nullable(),
  deadAt: z.number().nullable(),
});
const SnoozeSchema = z.object({ id: z.number(), rule: z.string().nullable(), camera: z.string().nullable(), until: z.number().describe('Wall-clock ms.'), createdAt: z.number() });
export const SnoozeBodySchema = z
  .strictObject({
    rule: id.optional().describe('Rule id to silence (with camera: only on that camera).'),
    camera: id.optional().describe('Camera id to silence (with rule: only that rule).'),
    minutes: z.number().positive().max(60 * 24 * 30).describe('How long, in minutes (at most 30 days).'),
  })
  .refine((b) => b.rule !== undefined || b.camera !== undefined, { message: 'name a rule, a camera, or both', path: ['rule'] });

export function notifyRoutes(app: FastifyInstance, d: NotifyRouteDeps): void {
  app.get(
    '/api/notifications/channels',
    withAccess('viewer', { summary: "The configured notification channels a rule's notify.channels may name (id and type)", response: { 200: z.object({ channels: z.array(z.object({ id: z.string(), type: z.enum(['webhook', 'mqtt']) })) }) } }),
    async () => ({ channels: d.channels() }),
  );
  app.get('/api/notifications/dead', withAccess('operator', { summary: 'Dead letters: messages that ran out of delivery attempts, newest first', response: { 200: z.object({ messages: z.array(DeadSchema) }) } }), async () => {
    const dead = await d.outbox.dead();
    return { messages: dead.map((m) => ({ id: m.id, channel: m.channel, eventId: m.eventId, kind: m.kind, rule: m.rule, camera: m.camera, framePdt: m.framePdt, createdAt: m.createdAt, attempts: m.attempts, lastError: m.lastError, deadAt: m.doneAt })) };
  });
  app.post(
    '/api/notifications/dead/:id/retry',
    withAccess('operator', { summary: 'Put a dead letter back in the outbox with a fresh attempt count', params: z.object({ id: z.string().min(1).max(300) }), response: { 200: z.object({ retried: z.string() }), ...err(404) } }),
    async (req: FastifyRequest<{ Params: { id: string } }>) => {
      if (!(await d.outbox.retry(req.params.id, Date.now()))) throw Errors.NOT_FOUND(`no dead letter "${req.params.id}" (delivered, or never dead-lettered)`);
      d.kick();
      return { retried: req.params.id };
    },
  );
  app.get('/api/snooze', withAccess('viewer', { summary: 'Snoozes in force', response: { 200: z.object({ snoozes: z.array(SnoozeSchema) }) } }), async () => ({ snoozes: await d.outbox.snoozes(Date.now()) }));
  app.post('/api/snooze', withAccess('operator', { summary: 'Silence a rule, a camera, or a rule on a camera for N minutes (events opening meanwhile are not notified)', body: SnoozeBodySchema, response: { 200: SnoozeSchema, ...err(400) } }), async (req: FastifyRequest<{ Body: z.output<typeof SnoozeBodySchema> }>) => {
    const now = Date.now();
    return d.outbox.snooze({ rule: req.body.rule, camera: req.body.camera, until: now + req.body.minutes * 60_000 }, now);
  });
  app.delete(
    '/api/snooze/:id',
    withAccess('operator', { summary: 'End a snooze now', params: z.object({ id: z.coerce.number().int().positive() }), response: { 200: z.object({ deleted: z.number() }), ...err(404) } }),
    async (req: FastifyRequest<{ Params: { id: number } }>) => {
      if (!(await d.outbox.unsnooze(req.params.id))) throw Errors.NOT_FOUND(`no snooze ${req.params.id}`);
      return { deleted: req.params.id };
    },
  );
}

/** Who may call a notification route (server/auth/roles.ts): reading snoozes is a viewer's, changing delivery an operator's. */
function withAccess(level: 'viewer' | 'operator', parts: Parameters<typeof zodRoute>[0]): ReturnType<typeof zodRoute> & ReturnType<typeof access> {
  return { ...zodRoute(parts), ...access(level) };
}
