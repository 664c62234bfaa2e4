// What the server reads from the store's rule and event repositories and from the rule loop, typed
// structurally: the composition root passes the real KyselyRuleRepository, KyselyEventStore and RuleLoop,
// and the routes depend only on the shapes they use.
import type { Rule } from '../../config/rule.ts';
import type { Frame } from '../../pipelines/ingest/types.ts';
import type { ActiveRule, Evaluation, EventMessage, EventRecord, Severity, EventState, Verdict } from '../../pipelines/rules/types.ts';
import type { RuleInfo } from '../wire.ts';

export type StoredRule = RuleInfo;

export interface RuleRepository {
  list(): Promise<StoredRule[]>;
  get(id: string): Promise<StoredRule | null | undefined>;
  versions(id: string): Promise<StoredRule[]>;
  /** Stores a new version when the rule changed; refuses to write over a config rule. */
  save(rule: Rule, source: 'config' | 'api', author: string): Promise<StoredRule>;
  remove(id: string): Promise<unknown>;
  /** Brings the config file's rules in; ids an API rule holds come back as conflicts. */
  syncProvisioned(rules: Rule[]): Promise<{ conflicts: string[] }>;
}

export interface EventQuery {
  camera?: string;
  rule?: string;
  severity?: Severity;
  state?: EventState;
  after?: number;
  before?: number;
  reviewed?: boolean;
  /** A verdict, or 'none' for events without one. */
  verdict?: Verdict | 'none';
  limit?: number;
  cursor?: string;
}

export type EventFilter = Omit<EventQuery, 'limit' | 'cursor'>;

export interface EventReview {
  reviewed?: boolean;
  verdict?: Verdict | null;
  note?: string | null;
  keep?: boolean;
}

export interface EventRepository {
  list(q: EventQuery): Promise<{ events: EventRecord[]; next: string | null }>;
  /** Matching events and how many of them are unreviewed. */
  counts(q: EventFilter): Promise<{ total: number; unreviewed: number }>;
  /** Days (in IANA time zone `tz`) with matching events; throws RangeError for an unknown zone. */
  days(q: EventFilter, tz?: string): Promise<Array<{ day: string; count: number; unreviewed: number }>>;
  /** A camera's evaluations with pdt in [from, to], every rule or one. */
  evaluationsBetween(camera: string, fromPdt: number, toPdt: number, rule?: string): Promise<Evaluation[]>;
  get(id: string): Promise<(EventRecord & { evaluations: Evaluation[] }) | null | undefined>;
  review(id: string, patch: EventReview): Promise<EventRecord | null | undefined>;
  delete(id: string): Promise<unknown>;
  filePath(id: string, image: 'snapshot' | 'annotated' | 'thumbnail'): string | null | undefined | Promise<string | null | undefined>;
}

/** One rule run once on one frame, nothing stored (the rule loop's test()). */
export type { RuleTestResult } from '../../pipelines/rules/rule-test.ts';
import type { RuleTestResult } from '../../pipelines/rules/rule-test.ts';

/** The rule loop as the routes use it. */
export interface RuleRunner {
  /** The camera's newest sampled frame, or null before its first. */
  latest(camera: string): Frame | null;
  test(rule: Rule, frame: Frame): Promise<RuleTestResult>;
  setRules(rules: ActiveRule[]): unknown;
}

export type FrameOutcome = 'asked' | 'gated' | 'dropped-stale' | 'dropped-newer' | 'idle';

/** The loop's events the metrics count. A type alias (not an interface) to fit SafeEmitter's event maps. */
export type LoopEvents = {
  evaluation: [Evaluation];
  event: [EventMessage];
  frame: [{ camera: string; pdt: number; outcome: FrameOutcome; ageMs: number }];
  ask: [{ camera: string; questions: number; ms: number; ok: boolean; code?: string }];
};

export interface LoopEventSource {
  on<K extends keyof LoopEvents>(event: K, fn: (...args: LoopEvents[K]) => unknown): unknown;
  /** Asks waiting for the engine or in flight, when the loop exposes it. */
  readonly queueDepth?: number;
  readonly inFlight?: number;
}
