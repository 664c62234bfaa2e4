// Rows of `events` and `evaluations` to and from the rules stage's types, event ids and paging cursors.
import { createHash, randomBytes } from 'node:crypto';
import type { Insertable, Selectable } from 'kysely';
import type { CloseReason, Evaluation, EventRecord, EventState, NewEvent, Outcome, Severity, Verdict } from '../rules/types.ts';
import type { EvaluationsTable, EventsTable } from './schema.ts';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A ULID-shaped id: 10 characters of the start pdt (48 bits, so ids sort by start time) and 16 of randomness
 * (80 bits: two events of the same millisecond do not collide).
 */
export function newEventId(startPdt: number): string {
  let time = '';
  let t = Math.max(0, Math.floor(startPdt));
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const random = randomBytes(16);
  let rand = '';
  for (let i = 0; i < 16; i++) rand += CROCKFORD[random[i]! % 32];
  return time + rand;
}

export class EventStoreError extends Error {
  constructor(
    readonly code: 'EVENT_NOT_FOUND' | 'EVENT_CLOSED' | 'BAD_CURSOR',
    message: string,
  ) {
    super(message);
    this.name = 'EventStoreError';
  }
}

/** Opaque cursor: the (startPdt, id) of the last event of a page. */
export function encodeCursor(e: { startPdt: number; id: string }): string {
  return Buffer.from(JSON.stringify([e.startPdt, e.id])).toString('base64url');
}

export function decodeCursor(cursor: string): { startPdt: number; id: string } {
  try {
    const [startPdt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown[];
    if (typeof startPdt === 'number' && Number.isFinite(startPdt) && typeof id === 'string') return { startPdt, id };
  } catch {
    // falls through to the error below
  }
  throw new EventStoreError('BAD_CURSOR', 'invalid cursor: pass the `next` value of the previous page unchanged, or none for the first page');
}

export function newEventRow(id: string, e: NewEvent, evidenceTag: string, now: number): Insertable<EventsTable> {
  const rule = e.rule.rule;
  const positives = e.evaluations.filter((v) => v.outcome === 'positive').map((v) => v.pdt);
  return {
    id,
    rule: rule.id,
    rule_name: rule.name ?? rule.id,
    rule_version: e.rule.version,
    camera: e.camera,
    severity: rule.severity,
    state: 'open',
    start_pdt: e.startPdt,
    end_pdt: Math.max(e.startPdt, ...positives),
    close_reason: null,
    peak: e.peak,
    best_pdt: e.evidence.pdt,
    prompt: e.prompt,
    engine_kind: e.engine.kind,
    engine_model: e.engine.model,
    rec_from: e.startPdt - rule.padding.pre * 1000,
    rec_to: null,
    post_ms: rule.padding.post * 1000,
    evidence_tag: evidenceTag,
    reviewed: 0,
    verdict: null,
    note: null,
    keep: 0,
    created_at: now,
  };
}

export function toEventRecord(r: Selectable<EventsTable> | Insertable<EventsTable>): EventRecord {
  return {
    id: r.id,
    rule: r.rule,
    ruleName: r.rule_name,
    ruleVersion: Number(r.rule_version),
    camera: r.camera,
    severity: r.severity as Severity,
    state: r.state as EventState,
    startPdt: Number(r.start_pdt),
    endPdt: numOrNull(r.end_pdt),
    closeReason: (r.close_reason ?? null) as CloseReason | null,
    peak: Number(r.peak),
    bestPdt: Number(r.best_pdt),
    prompt: r.prompt,
    engine: { kind: r.engine_kind, model: r.engine_model },
    recording: { from: Number(r.rec_from), to: numOrNull(r.rec_to) },
    reviewed: Number(r.reviewed) === 1,
    verdict: (r.verdict ?? null) as Verdict | null,
    note: r.note ?? null,
    keep: Number(r.keep) === 1,
    createdAt: Number(r.created_at),
  };
}

export function evaluationRow(e: Evaluation, eventId: string | null, promptHash: string | null): Insertable<EvaluationsTable> {
  return {
    rule: e.rule,
    rule_version: e.ruleVersion,
    camera: e.camera,
    run: e.run,
    pdt: e.pdt,
    outcome: e.outcome,
    reason: e.reason ?? null,
    gated: e.gated ? 1 : 0,
    prompt_hash: promptHash,
    raw: e.raw,
    parsed: e.parsed === null ? null : JSON.stringify(e.parsed),
    boxes: JSON.stringify(e.boxes),
    points: JSON.stringify(e.points),
    count: e.count,
    truncated: e.truncated ? 1 : 0,
    timings: e.timings === null ? null : JSON.stringify(e.timings),
    source_w: e.sourceW,
    source_h: e.sourceH,
    event_id: eventId,
  };
}

export function toEvaluation(r: Selectable<EvaluationsTable> & { prompt_text: string | null }): Evaluation {
  const e: Evaluation = {
    rule: r.rule,
    ruleVersion: Number(r.rule_version),
    camera: r.camera,
    run: Number(r.run),
    pdt: Number(r.pdt),
    outcome: r.outcome as Outcome,
    gated: Number(r.gated) === 1,
    prompt: r.prompt_text,
    raw: r.raw,
    parsed: r.parsed === null ? null : JSON.parse(r.parsed),
    boxes: JSON.parse(r.boxes),
    points: JSON.parse(r.points),
    count: numOrNull(r.count),
    truncated: Number(r.truncated) === 1,
    timings: r.timings === null ? null : JSON.parse(r.timings),
    sourceW: Number(r.source_w),
    sourceH: Number(r.source_h),
  };
  if (r.reason !== null) e.reason = r.reason;
  return e;
}

/** Hashes of prompts, memoised: a rule's prompt repeats on every evaluation. */
const hashes = new Map<string, string>();
export function promptHash(prompt: string): string {
  let h = hashes.get(prompt);
  if (h === undefined) {
    h = createHash('sha256').update(prompt).digest('hex').slice(0, 32);
    if (hashes.size >= 256) hashes.delete(hashes.keys().next().value!);
    hashes.set(prompt, h);
  }
  return h;
}

function numOrNull(v: number | null | undefined): number | null {
  return v === null || v === undefined ? null : Number(v);
}
