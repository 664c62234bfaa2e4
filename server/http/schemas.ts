// JSON schemas of the HTTP routes, written once in zod (the camera id rule comes from the config schema)
// and handed to fastify as JSON Schema: params are validated (a bad one is a 400 before any handler
// runs) and responses are serialized from the schema, so a field not listed here never leaves the server.
import { z } from 'zod';
import { CAMERA_ID } from '../../config/schema.ts';
import type { CameraInfo, CameraState, ErrorBody, HealthInfo } from '../wire.ts';

// Each JSON Schema handed to fastify remembers the zod schema it came from, so the OpenAPI document
// (server/http/openapi.ts) can describe it in OpenAPI 3.0's own dialect instead of draft-07.
const sources = new WeakMap<object, { schema: z.ZodType; io: 'input' | 'output' }>();

/** zod -> JSON Schema (draft-07, what fastify's ajv and serializer speak), without the `$schema` key. */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'output'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io }) as Record<string, unknown>;
  sources.set(rest, { schema, io });
  return rest;
}

/** The OpenAPI 3.0 form of a schema made by jsonSchema(); null for one made otherwise. */
export function openApiSchema(json: unknown): Record<string, unknown> | null {
  const src = typeof json === 'object' && json !== null ? sources.get(json) : undefined;
  if (!src) return null;
  const { $schema: _drop, ...rest } = z.toJSONSchema(src.schema, { target: 'openapi-3.0', io: src.io }) as Record<string, unknown>;
  return rest;
}

/** HLS playlists and segments: plain names only (no dot files, no folders), known media extensions. */
export const HLS_FILE = /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*\.(m3u8|ts|m4s|mp4)$/;
/** Recorded segments (never playlists: recordings are indexed by the store, not by a folder's playlist). */
export const SEGMENT_FILE = /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*\.(ts|m4s|mp4)$/;

const cameraId = z.string().regex(CAMERA_ID).describe('Camera id from the configuration.');

export const CameraParams = z.object({ id: cameraId });
export const HlsParams = z.object({ camera: cameraId, file: z.string().regex(HLS_FILE).describe('Playlist or segment name.') });
export const SegmentParams = z.object({ camera: cameraId, file: z.string().regex(SEGMENT_FILE).describe('Recorded segment name.') });

const STATES = ['connecting', 'live', 'offline', 'disabled'] as const satisfies readonly CameraState[];

export const CameraInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  state: z.enum(STATES),
  reason: z.string().nullable(),
  run: z.number().int(),
  hlsRun: z.number().int().nullable(),
  lastFramePdt: z.number().nullable(),
  framesSampled: z.number().int(),
  framesDropped: z.number().int(),
  restarts: z.number().int(),
  hls: z.string(),
  sampleInterval: z.number(),
  decode: z.enum(['keyframes', 'all']),
  video: z
    .object({ mode: z.enum(['copy', 'transcode']), codec: z.string().nullable(), reason: z.string().nullable() })
    .nullable()
    .describe('How the live video is made: copied, or transcoded to H.264 here (and why, what it costs).'),
});

export const HealthSchema = z.object({
  ok: z.literal(true),
  version: z.string(),
  uptimeSeconds: z.number().int(),
  cameras: z.number().int(),
  engine: z.object({
    state: z.string(),
    kind: z.string().optional(),
    family: z.string().optional(),
    model: z.string().optional(),
    device: z.string().optional(),
    error: z.object({ code: z.string(), message: z.string(), hint: z.string().optional() }).optional(),
    pull: z.object({ file: z.string(), bytes: z.number(), total: z.number().nullable() }).optional(),
  }),
});

export const ErrorSchema = z.object({
  error: z.object({
    status: z.number().int(),
    code: z.string(),
    message: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional().describe('INVALID: each failing field and why.'),
  }),
});

// The wire module is the contract both sides import; these schemas must describe exactly its types.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameCamera: Same<z.output<typeof CameraInfoSchema>, CameraInfo> = true;
const sameHealth: Same<z.output<typeof HealthSchema>, HealthInfo> = true;
const sameStates: Same<(typeof STATES)[number], CameraState> = true;
const sameError: Same<z.output<typeof ErrorSchema>, ErrorBody> = true;
void [sameCamera, sameHealth, sameStates, sameError];
