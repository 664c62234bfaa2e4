// The one schema of a standing rule, shared by the YAML config (`rules:`), the HTTP API (/api/rules) and the
// CLI (`vigil rules`). Defaults are chosen so a new rule neither floods nor misses (docs/rules.md): a positive
// must repeat (2 of the last 3 evaluations) before an event opens, 3 negatives in a row close it, and the same
// rule on the same camera waits 60 s after a close before it may open another.
import { z } from 'zod';
import { parseAttributeSpec } from './attribute-spec.ts';
import { RuleNotifySchema } from './notify.ts';

export const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const RULE_KINDS = ['detect', 'point', 'count', 'yesno', 'describe'] as const;
export const SEVERITIES = ['alert', 'detection'] as const;
export const COMPARISONS = ['>=', '>', '<=', '<', '==', '!='] as const;
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const ANCHORS = ['bottom', 'center', 'top'] as const;

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;

const Attribute = z
  .string()
  .superRefine((s, ctx) => {
    try {
      parseAttributeSpec(s);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  })
  .describe('A typed attribute asked of every object, "name:type" with type boolean | string | number | enum(a|b) | point (keypoints of point rules), e.g. "helmet:boolean".');

const AttributeValue = z.union([z.boolean(), z.number(), z.string().max(32)]);

export const ConditionSchema = z
  .strictObject({
    answer: z.enum(['yes', 'no']).optional().describe('yesno: the answer that counts as positive (default "yes").'),
    op: z.enum(COMPARISONS).optional().describe('count: how the count compares with `value` (default ">=").'),
    value: z.number().min(0).optional().describe('count: the number the count is compared with (default 1).'),
    min: z.number().int().min(1).max(256).optional().describe('detect/point: at least this many matching objects (inside the zones, passing `where`) make a positive (default 1).'),
    where: z
      .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,31}$/), AttributeValue)
      .optional()
      .describe('detect/point/count: only objects whose attributes equal these values count, e.g. {helmet: false}. Each name must be a declared attribute.'),
    contains: z
      .array(z.string().min(1).max(64))
      .max(16)
      .optional()
      .describe('describe: positive when the description contains any of these words (case-insensitive); without it a describe rule only records.'),
  })
  .describe('What makes one evaluation positive.');

/** A polygon in 0..1 frame coordinates (x right, y down), at least three corners. */
export const PolygonSchema = z
  .array(z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]))
  .min(3)
  .max(64)
  .describe('Corners [x, y] in 0..1 of the frame width and height (0,0 top left).');

export const ScheduleWindowSchema = z.strictObject({
  days: z.array(z.enum(WEEKDAYS)).min(1).default([...WEEKDAYS]).describe('Days the window starts on.'),
  start: z.string().regex(HHMM, 'expected HH:MM, e.g. "08:00"').describe('Start, local time HH:MM.'),
  end: z.string().regex(HHMM, 'expected HH:MM, e.g. "18:00" (24:00 is the end of the day)').describe('End, local time HH:MM; before start means the window runs past midnight.'),
});

export const ScheduleSchema = z
  .strictObject({
    timezone: z
      .string()
      .refine(validTimeZone, 'unknown IANA time zone, e.g. "Europe/Berlin" or "UTC"')
      .optional()
      .describe("IANA time zone of the windows (default: the server's)."),
    windows: z.array(ScheduleWindowSchema).min(1).describe('Weekly windows in which the rule is evaluated.'),
  })
  .describe('When the rule runs; outside every window it is not evaluated and an open event closes. Absent: always.');

export const RuleSchema = z
  .strictObject({
    id: z.string().regex(RULE_ID, 'use letters, digits, "_" or "-" (at most 64), starting with a letter or digit').describe('Stable identifier used in URLs and events.'),
    name: z.string().min(1).max(120).optional().describe('Display name; defaults to the id.'),
    enabled: z.boolean().default(true).describe('A disabled rule is kept but never evaluated.'),
    cameras: z
      .union([z.literal('all'), z.array(z.string().min(1)).min(1)])
      .default('all')
      .describe('Camera ids the rule watches, or "all".'),
    kind: z.enum(RULE_KINDS).describe('detect: boxes; point: points; count: a number; yesno: yes or no with a reason; describe: free text.'),
    question: z
      .string()
      .trim()
      .min(1, 'the question is empty')
      .max(500)
      .describe('The standing question in plain language, e.g. "motorcycle riders" or "Is a person lying on the floor?".'),
    attributes: z.array(Attribute).max(8).default([]).describe('Attributes asked of each object (detect, point, count).'),
    condition: ConditionSchema.default({}),
    zones: z
      .record(z.string(), z.array(PolygonSchema).min(1).max(16))
      .optional()
      .describe('Per camera id, polygons in 0..1 frame coordinates; an object counts only when its anchor lies inside one. Cameras not listed use the whole frame.'),
    anchor: z.enum(ANCHORS).default('bottom').describe('Which point of a box must lie in a zone: bottom centre (where a person stands), centre, or top centre.'),
    schedule: ScheduleSchema.optional(),
    every: z.number().positive().max(86_400).optional().describe("Seconds between evaluations on one camera (default and minimum: the camera's sampleInterval)."),
    clip: z
      .strictObject({
        frames: z.number().int().min(2).max(8).describe('Frames sent together, the newest last.'),
        spacing: z.number().positive().max(60).describe('Seconds between them (at least the sample interval).'),
      })
      .optional()
      .describe('Send a short clip instead of one frame, for questions about motion ("someone falls").'),
    trigger: z
      .strictObject({
        n: z.number().int().min(1).max(100).default(2).describe('Positives needed among the latest `of` evaluations to open an event.'),
        of: z.number().int().min(1).max(100).default(3).describe('How many of the latest evaluations the positives are counted in.'),
      })
      .prefault({})
      .describe('Confirmation before an event opens: N positives in the last M evaluations.'),
    end: z
      .strictObject({
        negatives: z.number().int().min(1).max(1000).default(3).describe('Negatives in a row that close an open event.'),
        maxSeconds: z.number().positive().default(3600).describe('An event longer than this (video time) is closed and, if still positive, a new one opens: evidence stays reviewable.'),
      })
      .prefault({})
      .describe('When an open event closes.'),
    cooldown: z.number().min(0).max(86_400).default(60).describe('Seconds (video time) after an event closes before this rule may open another on the same camera.'),
    severity: z.enum(SEVERITIES).default('alert').describe('alert: needs attention; detection: recorded for review.'),
    padding: z
      .strictObject({
        pre: z.number().min(0).max(300).default(5).describe('Seconds of recording kept before the event starts.'),
        post: z.number().min(0).max(300).default(5).describe('Seconds of recording kept after it ends.'),
      })
      .prefault({})
      .describe('Recording kept with the event (as long as the event exists).'),
    notify: RuleNotifySchema.optional(),
  })
  .superRefine(checkRule);

export type Rule = z.output<typeof RuleSchema>;
export type RuleInput = z.input<typeof RuleSchema>;
export type RuleKind = (typeof RULE_KINDS)[number];
export type Severity = (typeof SEVERITIES)[number];
export type Condition = z.output<typeof ConditionSchema>;
export type Schedule = z.output<typeof ScheduleSchema>;
export type Polygon = z.output<typeof PolygonSchema>;

function checkRule(r: z.output<typeof RuleSchema> extends infer T ? T : never, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (r.trigger.n > r.trigger.of) issue(['trigger', 'n'], `n (${r.trigger.n}) cannot exceed of (${r.trigger.of})`);
  const objects = r.kind === 'detect' || r.kind === 'point' || r.kind === 'count';
  if (!objects && r.attributes.length) issue(['attributes'], `attributes apply to detect, point and count rules, not ${r.kind}`);
  if (r.kind !== 'point' && r.attributes.some((a) => /:\s*point\s*$/.test(a))) issue(['attributes'], 'keypoints (name:point) only apply to point rules');
  if (!objects && r.zones) issue(['zones'], `zones filter objects: they apply to detect, point and count rules, not ${r.kind}`);
  const c = r.condition;
  const allowed: Record<string, (keyof Condition)[]> = {
    yesno: ['answer'],
    count: ['op', 'value', 'where'],
    detect: ['min', 'where'],
    point: ['min', 'where'],
    describe: ['contains'],
  };
  for (const key of Object.keys(c) as (keyof Condition)[]) {
    if (c[key] !== undefined && !allowed[r.kind]!.includes(key)) issue(['condition', key], `does not apply to ${r.kind} rules (use ${allowed[r.kind]!.join(', ')})`);
  }
  const declared = new Set(r.attributes.map((a) => a.split(':')[0]!.trim()));
  for (const name of Object.keys(c.where ?? {})) {
    if (!declared.has(name)) issue(['condition', 'where', name], `"${name}" is not a declared attribute (add "${name}:boolean" or similar to attributes)`);
  }
  if (r.clip && r.every !== undefined && r.clip.spacing * (r.clip.frames - 1) > 600) issue(['clip'], 'a clip may span at most 600 s');
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Cross-checks a rule against the cameras it names: unknown ids, zones of unknown cameras, `every` and clip spacing below a camera's sample interval. */
export function checkRuleCameras(rule: Rule, cameras: ReadonlyArray<{ id: string; sampleInterval: number }>): { path: (string | number)[]; message: string }[] {
  const byId = new Map(cameras.map((c) => [c.id, c]));
  const out: { path: (string | number)[]; message: string }[] = [];
  if (rule.cameras !== 'all') {
    rule.cameras.forEach((id, i) => {
      if (!byId.has(id)) out.push({ path: ['cameras', i], message: `unknown camera "${id}"` });
    });
  }
  for (const id of Object.keys(rule.zones ?? {})) {
    if (!byId.has(id)) out.push({ path: ['zones', id], message: `unknown camera "${id}"` });
  }
  const watched = rule.cameras === 'all' ? cameras : cameras.filter((c) => (rule.cameras as string[]).includes(c.id));
  const slowest = Math.max(0, ...watched.map((c) => c.sampleInterval));
  if (rule.every !== undefined && rule.every < slowest) {
    out.push({ path: ['every'], message: `must be at least the sample interval of the cameras it watches (${slowest} s)` });
  }
  if (rule.clip && rule.clip.spacing < slowest) {
    out.push({ path: ['clip', 'spacing'], message: `must be at least the sample interval of the cameras it watches (${slowest} s)` });
  }
  return out;
}

/** Analysis loop settings shared by every camera and rule. */
export const AnalysisSchema = z.strictObject({
  changeThreshold: z
    .number()
    .min(0)
    .max(255)
    .default(2)
    .describe('Change gate: mean absolute difference (0-255) over the most-changed 8x8 region of a 160 px wide grey thumbnail, below which a frame counts as unchanged and skips the model (docs/rules.md). 0 turns the gate off.'),
  forceEvery: z.number().positive().default(30).describe('Change gate: evaluate at least this often (seconds of video) even on an unchanged scene, so a standing condition stays confirmed.'),
  maxFrameAge: z.number().positive().default(10).describe('A frame that waited longer than this (seconds) for the engine is dropped and counted, never evaluated late.'),
  maxInFlight: z.number().int().min(1).max(64).default(2).describe('Engine asks in flight at once across all cameras.'),
});

/** Stored events and their evidence files. */
export const EventsSchema = z.strictObject({
  maxAgeDays: z.number().positive().default(30).describe('Delete events (and their files) older than this, except those marked keep.'),
  evaluationsMaxAgeHours: z.number().positive().default(24).describe('Delete evaluations that belong to no event after this many hours.'),
});

export type AnalysisConfig = z.output<typeof AnalysisSchema>;
export type EventsConfig = z.output<typeof EventsSchema>;
