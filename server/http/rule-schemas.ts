// JSON schemas of the rules and events routes, in zod (the rule itself is config/rule.ts RuleSchema),
// checked against the wire types at compile time so the serializer never drops a field the client reads.
import { z } from 'zod';
import { RULE_ID, RuleSchema, SEVERITIES } from '../../config/rule.ts';
import { CAMERA_ID } from '../../config/schema.ts';
import type { EventInfo, RuleInfo, RuleTestInfo } from '../wire.ts';
import type { Evaluation } from '../../pipelines/rules/types.ts';

export const RuleParams = z.object({ id: z.string().regex(RULE_ID, 'not a rule id').describe('Rule id.') });
export const EventParams = z.object({ id: z.string().min(1).max(128).describe('Event id.') });

export const RuleInfoSchema = z.object({
  rule: RuleSchema,
  version: z.number().int().describe('Every edit is a new version; events keep the version they fired under.'),
  source: z.enum(['config', 'api']).describe('config: provisioned by the config file, read-only here.'),
  updatedAt: z.number().describe('Epoch ms of this version.'),
  author: z.string(),
});

const cameraId = z.string().regex(CAMERA_ID, 'not a camera id');
export const RuleTestBody = z.strictObject({
  camera: cameraId.optional().describe("Camera whose newest frame to use (default: the rule's first camera)."),
});
export const UnsavedRuleTestBody = z.strictObject({
  rule: z.unknown().describe('A rule as POST /api/rules takes it (validated the same way).'),
  camera: cameraId.optional().describe("Camera whose newest frame to use (default: the rule's first camera)."),
});

export const BoxSchema = z.object({
  label: z.string(),
  x1: z.number(),
  y1: z.number(),
  x2: z.number(),
  y2: z.number(),
  attributes: z.record(z.string(), z.unknown()),
});
export const PointSchema = z.object({ label: z.string(), x: z.number(), y: z.number(), attributes: z.record(z.string(), z.unknown()).optional() });
export const ParsedSchema = z.object({
  boxes: z.array(BoxSchema),
  points: z.array(PointSchema),
  count: z.number().optional(),
  answer: z.enum(['yes', 'no']).optional(),
  reason: z.string().optional(),
  description: z.string().optional(),
});
export const TimingsSchema = z.object({
  encodeMs: z.number(),
  prefillMs: z.number(),
  decodeMs: z.number(),
  totalMs: z.number(),
  promptTokens: z.number(),
  outputTokens: z.number(),
  imageTokens: z.number().optional(),
  imagePrefillMs: z.number().optional(),
});

const OUTCOMES = ['positive', 'negative', 'error', 'skipped'] as const;

export const RuleTestInfoSchema = z.object({
  camera: z.string(),
  pdt: z.number().describe('pdt of the frame the rule ran on.'),
  positive: z.boolean(),
  outcome: z.enum(OUTCOMES),
  reason: z.string().nullable().describe('Why it failed (error code) or was skipped.'),
  prompt: z.string().nullable(),
  raw: z.string().nullable(),
  parsed: ParsedSchema.nullable(),
  boxes: z.array(BoxSchema).describe('Objects that count (inside the zones, passing `where`), source pixels.'),
  points: z.array(PointSchema),
  count: z.number().nullable(),
  answer: z.string().nullable(),
  timings: TimingsSchema.nullable(),
  annotated: z.string().describe('The frame with the boxes and points drawn, as a data:image/jpeg;base64 URL.'),
});

export const EvaluationSchema = z.object({
  rule: z.string(),
  ruleVersion: z.number().int(),
  camera: z.string(),
  run: z.number().int(),
  pdt: z.number(),
  outcome: z.enum(OUTCOMES),
  reason: z.string().optional(),
  gated: z.boolean(),
  prompt: z.string().nullable(),
  raw: z.string().nullable(),
  parsed: ParsedSchema.nullable(),
  boxes: z.array(BoxSchema),
  points: z.array(PointSchema),
  count: z.number().nullable(),
  truncated: z.boolean(),
  timings: TimingsSchema.nullable(),
  sourceW: z.number(),
  sourceH: z.number(),
});

const CLOSE_REASONS = ['negatives', 'max-length', 'schedule', 'rule-changed', 'rule-removed', 'shutdown', 'recovered-after-crash'] as const;

export const EventInfoSchema = z.object({
  id: z.string(),
  rule: z.string(),
  ruleName: z.string(),
  ruleVersion: z.number().int(),
  camera: z.string(),
  severity: z.enum(SEVERITIES),
  state: z.enum(['open', 'closed']),
  startPdt: z.number(),
  endPdt: z.number().nullable(),
  closeReason: z.enum(CLOSE_REASONS).nullable(),
  peak: z.number(),
  bestPdt: z.number(),
  prompt: z.string(),
  engine: z.object({ kind: z.string(), model: z.string() }),
  recording: z.object({ from: z.number(), to: z.number().nullable() }),
  reviewed: z.boolean(),
  verdict: z.enum(['true-positive', 'false-positive']).nullable(),
  note: z.string().nullable(),
  keep: z.boolean(),
  createdAt: z.number(),
  snapshot: z.string().describe('URL of the best frame (JPEG).'),
  annotated: z.string().describe('URL of the best frame with boxes and points drawn.'),
  thumbnail: z.string().describe('URL of a crop around the boxes.'),
});
export const EventDetailSchema = EventInfoSchema.extend({ evaluations: z.array(EvaluationSchema) });
export const EventPageSchema = z.object({
  events: z.array(EventInfoSchema),
  next: z.string().nullable().describe('Cursor of the next (older) page; null on the last.'),
});

/** Video time in a query: epoch ms, or an ISO 8601 date. */
export const pdtParam = z
  .string()
  .transform((s, ctx) => {
    const n = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
    if (!Number.isFinite(n)) ctx.addIssue({ code: 'custom', message: 'expected epoch milliseconds or an ISO 8601 date' });
    return n;
  })
  .describe('epoch ms or ISO 8601 date');

/** A boolean in a query string: exactly true or false. */
const boolParam = z.enum(['true', 'false']).transform((s) => s === 'true');

export const EventQuerySchema = z.strictObject({
  camera: z.string().optional(),
  rule: z.string().optional(),
  severity: z.enum(SEVERITIES).optional(),
  state: z.enum(['open', 'closed']).optional(),
  after: pdtParam.optional().describe('Only events that started after this (epoch ms or ISO date).'),
  before: pdtParam.optional().describe('Only events that started before this (epoch ms or ISO date).'),
  reviewed: boolParam.optional().describe('Only reviewed (true) or unreviewed (false) events.'),
  verdict: z.enum(['true-positive', 'false-positive', 'none']).optional().describe("Only events with this verdict ('none': no verdict yet)."),
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('Page size (1-500, default 50).'),
  cursor: z.string().max(256).optional().describe('`next` of the previous page.'),
});

/** The list's filters without paging: counts and days. */
export const EventFilterSchema = EventQuerySchema.omit({ limit: true, cursor: true });
export const EventCountsSchema = z.object({ total: z.number().int(), unreviewed: z.number().int() });
export const EventDaysQuerySchema = EventFilterSchema.extend({
  from: pdtParam.optional().describe('Same as after: days of events that started at or after this.'),
  to: pdtParam.optional().describe('Same as before: days of events that started before this.'),
  tz: z
    .string()
    .max(64)
    .default('UTC')
    .refine((tz) => validTimeZone(tz), 'unknown time zone: use an IANA name such as UTC or Europe/Berlin')
    .describe('IANA time zone the days are counted in (default UTC).'),
});
export const EventDaysSchema = z.object({
  days: z.array(z.object({ day: z.string().describe('YYYY-MM-DD in `tz`.'), count: z.number().int(), unreviewed: z.number().int() })),
});

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const EventPatchSchema = z
  .strictObject({
    reviewed: z.boolean().optional(),
    verdict: z.enum(['true-positive', 'false-positive']).nullable().optional(),
    note: z.string().max(2000).nullable().optional(),
    keep: z.boolean().optional().describe('Keep the event and its files past retention.'),
  })
  .refine((p) => Object.keys(p).length > 0, 'nothing to change: send reviewed, verdict, note or keep');

export const IMAGE_KINDS = ['snapshot', 'annotated', 'thumbnail'] as const;
export const EventImageParams = EventParams.extend({ image: z.enum(IMAGE_KINDS) });

// The wire module is the contract both sides import; these schemas must describe exactly its types.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameRule: Same<z.output<typeof RuleInfoSchema>, RuleInfo> = true;
const sameEvent: Same<z.output<typeof EventInfoSchema>, EventInfo> = true;
const sameEval: Same<z.output<typeof EvaluationSchema>, Evaluation> = true;
const sameTest: Same<z.output<typeof RuleTestInfoSchema>, RuleTestInfo> = true;
void [sameRule, sameEvent, sameEval, sameTest];
