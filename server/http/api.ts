// The JSON API: health (with the engine's state when the server has one) and the cameras.
import type { FastifyInstance } from 'fastify';
import type { CameraManager } from '../cameras/manager.ts';
import type { EngineHealth, HealthInfo } from '../wire.ts';
import { Errors } from './errors.ts';
import { CameraInfoSchema, CameraParams, ErrorSchema, HealthSchema, jsonSchema } from './schemas.ts';
import { z } from 'zod';
import { access } from '../auth/roles.ts';

/**
 * What the server reads from a vision engine: typed structurally so the server does not depend on
 * pipelines/engine (the composition root passes the real VisionEngine, which has these fields).
 */
export interface EngineStatusSource {
  readonly state: string;
  readonly info?: { readonly kind?: string; readonly family?: string; readonly model?: string; readonly device?: string };
  /** Why it is not answering, and what to do (server/engine/status.ts EngineStatusView). */
  readonly error?: EngineHealth['error'];
  /** Download progress while it pulls the default model. */
  readonly pull?: EngineHealth['pull'];
}

export interface ApiDeps {
  cameras: CameraManager;
  engine?: EngineStatusSource;
  version: string;
  startedAt: number;
}

export function apiRoutes(app: FastifyInstance, d: ApiDeps): void {
  const notFound = { 404: jsonSchema(ErrorSchema) };
  app.get('/api/health', { ...access('public'), schema: { response: { 200: jsonSchema(HealthSchema) } } }, async (): Promise<HealthInfo> => ({
    ok: true,
    version: d.version,
    uptimeSeconds: Math.round((Date.now() - d.startedAt) / 1000),
    cameras: d.cameras.list().length,
    engine: engineHealth(d.engine),
  }));
  app.get('/api/cameras', { ...access('viewer'), schema: { response: { 200: jsonSchema(z.array(CameraInfoSchema)) } } }, async () => d.cameras.list());
  app.get<{ Params: { id: string } }>(
    '/api/cameras/:id',
    { ...access('viewer'), schema: { params: jsonSchema(CameraParams), response: { 200: jsonSchema(CameraInfoSchema), ...notFound } } },
    async (req) => {
      const cam = d.cameras.get(req.params.id);
      if (!cam) throw Errors.NOT_FOUND(`no camera "${req.params.id}"`);
      return cam;
    },
  );
  cameraFrameRoute(app, d.cameras);
}

/**
 * GET /api/cameras/:id/frame.jpg: the camera's newest sampled frame, the still picture the rule editor draws
 * zones on. Kept here from the cameras' `frame` events (one JPEG per camera), so it works with or without a
 * rule loop.
 */
function cameraFrameRoute(app: FastifyInstance, cameras: CameraManager): void {
  const latest = new Map<string, Buffer>();
  cameras.on('frame', (f) => void latest.set(f.camera, f.jpeg));
  app.get<{ Params: { id: string } }>(
    '/api/cameras/:id/frame.jpg',
    { ...access('viewer'), schema: { summary: "The camera's newest sampled frame (image/jpeg); 409 NO_FRAME before its first", params: jsonSchema(CameraParams), response: { 404: jsonSchema(ErrorSchema), 409: jsonSchema(ErrorSchema) } } },
    async (req, reply) => {
      const cam = cameras.get(req.params.id);
      if (!cam) throw Errors.NOT_FOUND(`no camera "${req.params.id}"`);
      const jpeg = latest.get(cam.id);
      if (!jpeg) throw Errors.NO_FRAME(`camera "${cam.id}" has no frame yet (state: ${cam.state}): try again once it is live`);
      return reply.header('cache-control', 'no-store').header('x-content-type-options', 'nosniff').type('image/jpeg').send(jpeg);
    },
  );
}

function engineHealth(engine: EngineStatusSource | undefined): EngineHealth {
  if (!engine) return { state: 'none' };
  const info = engine.info;
  // Only these fields: an engine's info may one day hold an endpoint or a key, which never leave the server.
  const { error, pull } = engine;
  return { state: engine.state, kind: info?.kind, family: info?.family, model: info?.model, device: info?.device, ...(error ? { error } : {}), ...(pull ? { pull } : {}) };
}
