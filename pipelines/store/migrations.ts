// Versioned schema migrations: ordered steps, each applied in its own transaction together with the new
// `schema_version`, so a crash mid-step leaves the previous version intact (SQLite and PostgreSQL both have
// transactional DDL). Steps are written with Kysely's schema builder in types both databases hold.
// Never edit a released step: add the next one.
import type { Kysely } from 'kysely';
import { createAuthTables } from './auth-migration.ts';

export interface Migration {
  version: number;
  name: string;
  // Migrations see the schema of their own time, not today's StoreSchema type.
  up(db: Kysely<any>): Promise<void>;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'recording index',
    async up(db) {
      await db.schema
        .createTable('recordings')
        .addColumn('camera', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('file', 'text', (c) => c.notNull())
        .addColumn('pdt', 'bigint', (c) => c.notNull())
        .addColumn('duration', 'double precision', (c) => c.notNull())
        .addColumn('bytes', 'bigint', (c) => c.notNull())
        .addColumn('run', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('recordings_pk', ['camera', 'seq'])
        .execute();
      await db.schema.createIndex('recordings_camera_pdt').on('recordings').columns(['camera', 'pdt']).execute();
    },
  },
  {
    // The size budget needs each camera's total; summing a 24 h index every minute scans 86,400 rows per camera.
    version: 2,
    name: 'per-camera recording totals',
    async up(db) {
      await db.schema
        .createTable('recording_totals')
        .addColumn('camera', 'text', (c) => c.primaryKey())
        .addColumn('segments', 'bigint', (c) => c.notNull())
        .addColumn('bytes', 'bigint', (c) => c.notNull())
        .execute();
      await db
        .insertInto('recording_totals')
        .columns(['camera', 'segments', 'bytes'])
        .expression((eb) =>
          eb.selectFrom('recordings').select((s) => ['camera', s.fn.countAll().as('segments'), s.fn.sum('bytes').as('bytes')]).groupBy('camera'),
        )
        .execute();
    },
  },
  {
    // Every edit of a rule is a new version that events keep pointing at; `rules` is the current state of each id.
    version: 3,
    name: 'rule versions',
    async up(db) {
      await db.schema
        .createTable('rule_versions')
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('rule_versions_pk', ['rule', 'version'])
        .execute();
      await db.schema
        .createTable('rules')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('removed', 'integer', (c) => c.notNull())
        .execute();
    },
  },
  {
    // Events with their evidence, every evaluation, and the prompts they were asked with stored once each.
    version: 4,
    name: 'events and evaluations',
    async up(db) {
      await db.schema
        .createTable('events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('rule_name', 'text', (c) => c.notNull())
        .addColumn('rule_version', 'integer', (c) => c.notNull())
        .addColumn('camera', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('start_pdt', 'bigint', (c) => c.notNull())
        .addColumn('end_pdt', 'bigint')
        .addColumn('close_reason', 'text')
        .addColumn('peak', 'double precision', (c) => c.notNull())
        .addColumn('best_pdt', 'bigint', (c) => c.notNull())
        .addColumn('prompt', 'text', (c) => c.notNull())
        .addColumn('engine_kind', 'text', (c) => c.notNull())
        .addColumn('engine_model', 'text', (c) => c.notNull())
        .addColumn('rec_from', 'bigint', (c) => c.notNull())
        .addColumn('rec_to', 'bigint')
        .addColumn('post_ms', 'bigint', (c) => c.notNull())
        .addColumn('evidence_tag', 'text', (c) => c.notNull())
        .addColumn('reviewed', 'integer', (c) => c.notNull())
        .addColumn('verdict', 'text')
        .addColumn('note', 'text')
        .addColumn('keep', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      // Newest-first paging, alone or filtered by camera, rule, severity or state; recording protection per camera.
      await db.schema.createIndex('events_start').on('events').columns(['start_pdt', 'id']).execute();
      await db.schema.createIndex('events_camera_start').on('events').columns(['camera', 'start_pdt', 'id']).execute();
      await db.schema.createIndex('events_rule_start').on('events').columns(['rule', 'start_pdt', 'id']).execute();
      await db.schema.createIndex('events_severity_start').on('events').columns(['severity', 'start_pdt', 'id']).execute();
      await db.schema.createIndex('events_state_start').on('events').columns(['state', 'start_pdt', 'id']).execute();
      // Recording retention asks, per segment, whether a closed event's range covers it: ranges that start within
      // the longest range before the segment (recordings.ts).
      await db.schema.createIndex('events_camera_rec_from').on('events').columns(['camera', 'rec_from']).execute();
      await db.schema
        .createTable('prompts')
        .addColumn('hash', 'text', (c) => c.primaryKey())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('last_used', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('evaluations')
        // SQLite: an alias of the rowid, assigned on insert (PostgreSQL would declare it an identity column).
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('rule_version', 'integer', (c) => c.notNull())
        .addColumn('camera', 'text', (c) => c.notNull())
        .addColumn('run', 'integer', (c) => c.notNull())
        .addColumn('pdt', 'bigint', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('gated', 'integer', (c) => c.notNull())
        .addColumn('prompt_hash', 'text')
        .addColumn('raw', 'text')
        .addColumn('parsed', 'text')
        .addColumn('boxes', 'text', (c) => c.notNull())
        .addColumn('points', 'text', (c) => c.notNull())
        .addColumn('count', 'double precision')
        .addColumn('truncated', 'integer', (c) => c.notNull())
        .addColumn('timings', 'text')
        .addColumn('source_w', 'integer', (c) => c.notNull())
        .addColumn('source_h', 'integer', (c) => c.notNull())
        .addColumn('event_id', 'text')
        .execute();
      await db.schema.createIndex('evaluations_camera_pdt').on('evaluations').columns(['camera', 'pdt']).execute();
      // An event's evaluations by time; retention's "no event and older than" is a range of the same index.
      await db.schema.createIndex('evaluations_event_pdt').on('evaluations').columns(['event_id', 'pdt']).execute();
    },
  },
  {
    // Notifications (pipelines/notify): the outbox rows written in the same transaction as the event change that
    // caused them, what each (event, channel) was last told (one `opened` per event, `updated` only on a change),
    // the last message per (rule, camera, channel) for cooldowns, and snoozes.
    version: 5,
    name: 'notification outbox',
    async up(db) {
      await db.schema
        .createTable('notify_outbox')
        // SQLite: the rowid alias gives delivery order.
        .addColumn('seq', 'integer', (c) => c.primaryKey())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('camera', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('frame_pdt', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_at', 'bigint', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('done_at', 'bigint')
        .execute();
      // The worker's "due now" scan and the dead-letter list.
      await db.schema.createIndex('notify_outbox_state_next').on('notify_outbox').columns(['state', 'next_at']).execute();
      await db.schema.createIndex('notify_outbox_event').on('notify_outbox').columns(['event_id', 'channel', 'seq']).execute();
      await db.schema
        .createTable('notify_events')
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('peak', 'double precision', (c) => c.notNull())
        .addColumn('best_pdt', 'bigint', (c) => c.notNull())
        .addColumn('messages', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('notify_events_pk', ['event_id', 'channel'])
        .execute();
      await db.schema
        .createTable('notify_last')
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('camera', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('pdt', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('notify_last_pk', ['rule', 'camera', 'channel'])
        .execute();
      await db.schema
        .createTable('notify_snoozes')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('rule', 'text')
        .addColumn('camera', 'text')
        .addColumn('until', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  {
    // Users (scrypt hashes), sessions and API tokens (sha256 of the secret), and the audit log: who did what.
    version: 6,
    name: 'users, sessions, api tokens, audit',
    up: createAuthTables,
  },
  {
    // Video exports (MP4 clips cut from the recording): kept until deleted; the active ones hold their segments
    // against recording retention (recordings.ts keptRanges).
    version: 7,
    name: 'exports',
    async up(db) {
      await db.schema
        .createTable('exports')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('camera', 'text', (c) => c.notNull())
        .addColumn('from_pdt', 'bigint', (c) => c.notNull())
        .addColumn('to_pdt', 'bigint', (c) => c.notNull())
        .addColumn('event_id', 'text')
        .addColumn('burn_boxes', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('progress', 'double precision', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('bytes', 'bigint')
        .addColumn('duration', 'double precision')
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .execute();
      await db.schema.createIndex('exports_created').on('exports').columns(['created_at', 'id']).execute();
      await db.schema.createIndex('exports_camera_state').on('exports').columns(['camera', 'state']).execute();
    },
  },
];

export class SchemaTooNewError extends Error {
  constructor(found: number, known: number) {
    super(
      `the database has schema version ${found} but this Vigil knows versions up to ${known}: ` +
        'it was written by a newer Vigil. Upgrade Vigil, or point server.dataDir at another folder.',
    );
    this.name = 'SchemaTooNewError';
  }
}

/** The schema version recorded in the database (0 for an empty one). */
export async function schemaVersion(db: Kysely<any>): Promise<number> {
  await db.schema.createTable('schema_version').ifNotExists().addColumn('version', 'integer', (c) => c.notNull()).execute();
  const row = (await db.selectFrom('schema_version').select('version').executeTakeFirst()) as { version: number } | undefined;
  if (row) return Number(row.version);
  await db.insertInto('schema_version').values({ version: 0 }).execute();
  return 0;
}

/** Applies every step newer than the database's version, in order; returns the versions before and after. */
export async function migrate(db: Kysely<any>, steps: readonly Migration[] = MIGRATIONS, target?: number): Promise<{ from: number; to: number }> {
  steps.forEach((s, i) => {
    if (s.version !== i + 1) throw new Error(`migration "${s.name}" has version ${s.version}, expected ${i + 1}`);
  });
  const latest = steps.length;
  const to = target ?? latest;
  const from = await schemaVersion(db);
  if (from > latest) throw new SchemaTooNewError(from, latest);
  for (const step of steps.slice(from, to)) {
    await db.transaction().execute(async (trx) => {
      await step.up(trx);
      await trx.updateTable('schema_version').set({ version: step.version }).execute();
    });
  }
  return { from, to: Math.max(from, to) };
}
