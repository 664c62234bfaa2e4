// Public surface of the store (see README.md in this folder).
export type { Store } from './store.ts';
export { openSqliteStore, storeFileIn, STORE_FILE, type SqliteStoreOptions } from './sqlite.ts';
export { migrate, MIGRATIONS, SchemaTooNewError, type Migration } from './migrations.ts';
export { KyselyRecordingIndex } from './recordings.ts';
export { KyselyEventStore, EventStoreError, eventsDirIn, type EventQuery, type EventDay, type EventCounts, type ReviewPatch, type RetentionResult, type SweepResult } from './events.ts';
export { EVIDENCE_KINDS, type EvidenceKind } from './evidence-files.ts';
export { newEventId } from './event-rows.ts';
export { KyselyRuleRepository, RuleStoreError, type RuleSource, type RuleStoreErrorCode, type StoredRule } from './rules.ts';
export { KyselyOutbox, messageId, type OutboxMessage, type Snooze, type MessageKind, type MessagePayload, type NotifyHooks, type NotifyPolicy, type NotifyTarget } from './outbox.ts';
export { KyselyAuthRepository, type AuditEntry, type RoleName, type SessionRow, type TokenRow, type UserRow } from './auth.ts';
export { KyselyExportStore, exportsDirIn, type ExportRecord, type ExportState, type NewExport } from './exports.ts';
