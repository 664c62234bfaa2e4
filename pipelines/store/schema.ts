// Table types of the store as the query builder sees them (Kysely). One interface per table; columns use
// types both SQLite and PostgreSQL hold (text, bigint, integer, double precision), see migrations.ts.
import type { Generated } from 'kysely';
import type { RecordedSegment } from '../ingest/recording-index.ts';

/** A row of the recording index is ingest's RecordedSegment, keyed by camera. */
export interface RecordingsTable extends RecordedSegment {
  camera: string;
}

/** Per-camera running totals, kept in the same transaction as every change to `recordings`. */
export interface RecordingTotalsTable {
  camera: string;
  segments: number;
  bytes: number;
}

export interface SchemaVersionTable {
  version: number;
}

/** One version of a rule: the validated body (RuleSchema output) as canonical JSON. */
export interface RuleVersionsTable {
  rule: string;
  version: number;
  source: 'config' | 'api';
  body: string;
  author: string;
  created_at: number;
}

/** Current state of each rule id: the version in force, who owns it, removed (versions stay for the events). */
export interface RulesTable {
  id: string;
  version: number;
  source: 'config' | 'api';
  removed: number;
}

/** An event (EventRecord) flattened; booleans as 0/1, times in ms. */
export interface EventsTable {
  id: string;
  rule: string;
  rule_name: string;
  rule_version: number;
  camera: string;
  severity: string;
  state: string;
  start_pdt: number;
  end_pdt: number | null;
  close_reason: string | null;
  peak: number;
  best_pdt: number;
  prompt: string;
  engine_kind: string;
  engine_model: string;
  /** Recording kept: [rec_from, rec_to], rec_to null while open ("up to now"). */
  rec_from: number;
  rec_to: number | null;
  /** The rule's padding.post, to set rec_to when the event closes. */
  post_ms: number;
  /** Changes with every new evidence; names a replacement's staged files until they are renamed into place. */
  evidence_tag: string;
  reviewed: number;
  verdict: string | null;
  note: string | null;
  keep: number;
  created_at: number;
}

/** The exact prompts sent, stored once each (evaluations point at them by hash). */
export interface PromptsTable {
  hash: string;
  text: string;
  /** Newest pdt of an evaluation that used it: retention drops prompts no kept evaluation can point at. */
  last_used: number;
}

export interface EvaluationsTable {
  id: Generated<number>;
  rule: string;
  rule_version: number;
  camera: string;
  run: number;
  pdt: number;
  outcome: string;
  reason: string | null;
  gated: number;
  prompt_hash: string | null;
  raw: string | null;
  /** JSON: ParsedAnswer | null, AnswerTimings | null, Box[], Point[]. */
  parsed: string | null;
  boxes: string;
  points: string;
  count: number | null;
  truncated: number;
  timings: string | null;
  source_w: number;
  source_h: number;
  event_id: string | null;
}

/** One message for one channel (pipelines/notify): written with the event change that caused it, delivered at least once. */
export interface NotifyOutboxTable {
  seq: Generated<number>;
  /** Stable message id (the webhook-id): a retry sends the same id. */
  id: string;
  channel: string;
  event_id: string;
  /** opened | updated | closed */
  kind: string;
  rule: string;
  camera: string;
  /** JSON: {event, before} as EventRecords. */
  payload: string;
  /** pdt of the frame that caused it (delivery latency is measured from it). */
  frame_pdt: number;
  created_at: number;
  /** pending | sent | dead */
  state: string;
  attempts: number;
  /** Wall-clock ms of the next attempt. */
  next_at: number;
  last_error: string | null;
  done_at: number | null;
}

/** What one channel was told about one event: `notified` or `suppressed` (cooldown, snooze, severity) for its whole life. */
export interface NotifyEventsTable {
  event_id: string;
  channel: string;
  status: string;
  peak: number;
  best_pdt: number;
  messages: number;
}

/** pdt of the last message per (rule, camera, channel): the cooldown counts from it. */
export interface NotifyLastTable {
  rule: string;
  camera: string;
  channel: string;
  pdt: number;
}

/** A rule, a camera, or both silenced until `until` (wall-clock ms). */
export interface NotifySnoozesTable {
  id: Generated<number>;
  rule: string | null;
  camera: string | null;
  until: number;
  created_at: number;
}

export type RoleName = 'admin' | 'operator' | 'viewer';

/** A person who logs in; `password` is an scrypt hash string (server/auth/passwords.ts). */
export interface UsersTable {
  name: string;
  role: RoleName;
  password: string;
  created_at: number;
  updated_at: number;
}

/** A dashboard session, keyed by the sha256 of the cookie value (the value itself is never stored). */
export interface SessionsTable {
  id_hash: string;
  user: string;
  created_at: number;
  expires_at: number;
  address: string | null;
}

/** An API token: `hash` is the sha256 of the token, shown once when created. */
export interface ApiTokensTable {
  id: string;
  name: string;
  role: RoleName;
  hash: string;
  created_by: string;
  created_at: number;
  last_used: number | null;
  revoked_at: number | null;
}

/** Who did what: logins and failures, rule changes, event reviews, users and tokens. */
export interface AuditTable {
  id: Generated<number>;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  detail: string | null;
  address: string | null;
}

/** A video export: an MP4 clip of a camera's recording, made in the background, kept until deleted. */
export interface ExportsTable {
  id: string;
  camera: string;
  from_pdt: number;
  to_pdt: number;
  event_id: string | null;
  burn_boxes: number;
  /** queued | running | done | failed */
  state: string;
  /** 0..1 */
  progress: number;
  error: string | null;
  bytes: number | null;
  /** Seconds of video in the file. */
  duration: number | null;
  author: string;
  created_at: number;
  finished_at: number | null;
}

export interface StoreSchema {
  exports: ExportsTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  audit: AuditTable;
  recordings: RecordingsTable;
  recording_totals: RecordingTotalsTable;
  schema_version: SchemaVersionTable;
  rule_versions: RuleVersionsTable;
  rules: RulesTable;
  events: EventsTable;
  prompts: PromptsTable;
  evaluations: EvaluationsTable;
  notify_outbox: NotifyOutboxTable;
  notify_events: NotifyEventsTable;
  notify_last: NotifyLastTable;
  notify_snoozes: NotifySnoozesTable;
}
