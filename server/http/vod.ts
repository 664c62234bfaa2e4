// Recorded video for playback and the timeline: a VOD HLS playlist for any range of a camera's recording (its
// segments served by /recordings/:camera/:file), the recording's continuous extents, and the evaluations stored
// for a range (the playback overlay draws, for the displayed frame, the evaluation of that pdt).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CameraManager } from '../cameras/manager.ts';
import type { RecordedSegment } from '../../pipelines/ingest/recording-index.ts';
import { segmentsBetween, type SegmentSource } from '../vod/segments.ts';
import type { Evaluation } from '../../pipelines/rules/types.ts';
import { recordedRanges, vodPlaylist } from '../vod/playlist.ts';
import { Errors, invalid } from './errors.ts';
import { CameraParams, ErrorSchema } from './schemas.ts';
import { BoxSchema, PointSchema, pdtParam } from './rule-schemas.ts';
import { zodRoute } from './validate.ts';
import { access } from '../auth/roles.ts';

export interface VodDeps extends SegmentSource {
  cameras: CameraManager;
  evaluationsBetween(camera: string, fromPdt: number, toPdt: number, rule?: string): Promise<Evaluation[]>;
  videoTicket?: (p: NonNullable<FastifyRequest['principal']>) => string | null;
}

const HOUR = 3_600_000;
/** Longest VOD playlist: a day (86,400 one-second segments is ~8 MB of playlist). */
export const MAX_VOD_MS = 24 * HOUR;
/** Longest range for the timeline's recording extents. */
export const MAX_EXTENTS_MS = 31 * 24 * HOUR;
/** Longest range of evaluations per request: the player fetches them window by window as it plays. */
export const MAX_EVALUATIONS_MS = 10 * 60_000;

const Range = z.strictObject({ from: pdtParam, to: pdtParam });
const RangeQuery = Range.extend({ token: z.string().optional(), ticket: z.string().optional() });
const ExtentsQuery = z.strictObject({ from: pdtParam.optional(), to: pdtParam.optional() });
const EvaluationsQuery = Range.extend({ rule: z.string().max(128).optional().describe('Only this rule (default: every rule).') });

export const RecordedRangesSchema = z.object({ ranges: z.array(z.object({ from: z.number(), to: z.number() })).describe('Continuous recorded extents (ms), oldest first.') });
export const CompactEvaluationSchema = z.object({
  pdt: z.number().describe('pdt of the evaluated frame (ms): the frame to draw it on.'),
  rule: z.string(),
  outcome: z.enum(['positive', 'negative', 'error', 'skipped']),
  positive: z.boolean(),
  boxes: z.array(BoxSchema).describe('Source pixels.'),
  points: z.array(PointSchema),
  count: z.number().nullable(),
  answer: z.string().nullable().describe('yes/no, or a description.'),
  sourceW: z.number(),
  sourceH: z.number(),
});
export const EvaluationsSchema = z.object({ evaluations: z.array(CompactEvaluationSchema) });

const err = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ErrorSchema]));
type Q<T extends z.ZodType> = FastifyRequest<{ Params: { id: string }; Querystring: z.output<T> }>;

export function vodRoutes(app: FastifyInstance, d: VodDeps): void {
  app.get(
    '/api/cameras/:id/vod.m3u8',
    {
      ...access('viewer', true),
      ...zodRoute({ summary: "A VOD HLS playlist of the camera's recording in [from, to) (at most 24 h), PROGRAM-DATE-TIME on every segment", params: CameraParams, querystring: RangeQuery, response: err(400, 404) }),
    },
    async (req: Q<typeof RangeQuery>, reply) => {
      const { id } = req.params;
      const { from, to } = checkRange(req.query, MAX_VOD_MS);
      camera(d, id);
      const segments = await segmentsBetween(d, id, from, to);
      if (!segments.length) throw Errors.NOT_FOUND(`camera "${id}" has no recording between ${iso(from)} and ${iso(to)}: ask /api/cameras/${id}/recordings for the recorded ranges`);
      const viaQuery = req.principal?.via === 'token' && new URL(req.url, 'http://x').searchParams.has('token');
      const ticket = viaQuery ? d.videoTicket?.(req.principal!) : null;
      const suffix = ticket ? `?ticket=${encodeURIComponent(ticket)}` : '';
      const uri = (s: RecordedSegment) => `/recordings/${encodeURIComponent(id)}/${encodeURIComponent(s.file)}${suffix}`;
      return reply.header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').type('application/vnd.apple.mpegurl').send(vodPlaylist(segments, uri));
    },
  );
  app.get(
    '/api/cameras/:id/recordings',
    {
      ...access('viewer'),
      ...zodRoute({ summary: "The camera's continuous recorded extents in [from, to) (default: the last 24 h; at most 31 days)", params: CameraParams, querystring: ExtentsQuery, response: { 200: RecordedRangesSchema, ...err(400, 404) } }),
    },
    async (req: Q<typeof ExtentsQuery>) => {
      const to = req.query.to ?? Date.now();
      const { from } = checkRange({ from: req.query.from ?? to - 24 * HOUR, to }, MAX_EXTENTS_MS);
      camera(d, req.params.id);
      const ranges = recordedRanges(await segmentsBetween(d, req.params.id, from, to));
      return { ranges: ranges.map((r) => ({ from: Math.max(r.from, from), to: Math.min(r.to, to) })) };
    },
  );
  app.get(
    '/api/cameras/:id/evaluations',
    {
      ...access('viewer'),
      ...zodRoute({ summary: 'Evaluations of the camera with pdt in [from, to] (at most 10 minutes), oldest first', params: CameraParams, querystring: EvaluationsQuery, response: { 200: EvaluationsSchema, ...err(400, 404) } }),
    },
    async (req: Q<typeof EvaluationsQuery>) => {
      const { from, to } = checkRange(req.query, MAX_EVALUATIONS_MS);
      camera(d, req.params.id);
      const evals = await d.evaluationsBetween(req.params.id, from, to, req.query.rule);
      return { evaluations: evals.map(compact) };
    },
  );
}

function compact(e: Evaluation): z.output<typeof CompactEvaluationSchema> {
  const answer = e.parsed?.answer ?? e.parsed?.description ?? null;
  return { pdt: e.pdt, rule: e.rule, outcome: e.outcome, positive: e.outcome === 'positive', boxes: e.boxes, points: e.points, count: e.count, answer, sourceW: e.sourceW, sourceH: e.sourceH };
}

function checkRange(r: { from: number; to: number }, max: number): { from: number; to: number } {
  if (r.to <= r.from) throw invalid('invalid query', [{ path: 'to', message: 'must be after from' }]);
  if (r.to - r.from > max) throw invalid('invalid query', [{ path: 'to', message: `the range is at most ${max / 60_000} minutes: ask for a shorter one, window by window` }]);
  return r;
}

function camera(d: VodDeps, id: string): void {
  if (!d.cameras.get(id)) throw Errors.NOT_FOUND(`no camera "${id}"`);
}

const iso = (ms: number) => new Date(ms).toISOString();
