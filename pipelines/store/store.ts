// The store as the rest of Vigil sees it: one object per process, opened by the composition root in the data
// folder, handing out one repository per tenant. SQLite implements it today (sqlite.ts); a PostgreSQL store
// would open Kysely with its PostgresDialect, run the same migrations and hand out the same repositories.
import type { RecordingIndex } from '../ingest/recording-index.ts';
import type { KyselyEventStore } from './events.ts';
import type { KyselyRuleRepository } from './rules.ts';
import type { KyselyOutbox } from './outbox.ts';
import type { KyselyAuthRepository } from './auth.ts';
import type { KyselyExportStore } from './exports.ts';

export interface Store {
  /** The recording index; its retention skips the segments a stored event keeps. */
  readonly recordings: RecordingIndex;
  /** Events, evaluations and evidence files (the rules loop's EventSink, the API's queries). */
  readonly events: KyselyEventStore;
  /** Versioned rules (config-provisioned and API-made). */
  readonly rules: KyselyRuleRepository;
  /** Notification messages (written with event changes), dead letters and snoozes. */
  readonly outbox: KyselyOutbox;
  /** Users, sessions, API tokens and the audit log (hashes only; server/auth does the hashing). */
  readonly auth: KyselyAuthRepository;
  /** Video exports (MP4 clips of the recording), kept until deleted. */
  readonly exports: KyselyExportStore;
  /** Schema version in use (the last migration applied). */
  readonly schemaVersion: number;
  /** Waits for the transaction in flight, then closes the database; idempotent. Later calls reject. */
  close(): Promise<void>;
}
