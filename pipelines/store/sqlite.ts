// SQLite store: one database file in the data folder, opened through better-sqlite3 and queried through Kysely.
// WAL lets readers (HTTP playback) run while ingest writes; synchronous=NORMAL keeps every commit through a
// process crash (kill -9) without an fsync per segment on the event loop (a power cut may lose the last commits).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Logger } from '../log.ts';
import { migrate, MIGRATIONS, type Migration } from './migrations.ts';
import { KyselyEventStore } from './events.ts';
import { KyselyRecordingIndex } from './recordings.ts';
import { KyselyRuleRepository } from './rules.ts';
import { KyselyOutbox } from './outbox.ts';
import { KyselyAuthRepository } from './auth.ts';
import { KyselyExportStore } from './exports.ts';
import type { StoreSchema } from './schema.ts';
import type { Store } from './store.ts';

/** The database file inside `server.dataDir`. */
export const STORE_FILE = 'vigil.sqlite';

export interface SqliteStoreOptions {
  /** Path of the database file; created with its folder when missing. */
  file: string;
  /** The data folder, holding `events/` (event evidence files); default: the database file's folder. */
  dataDir?: string;
  logger?: Logger;
  /** Schema steps to apply; the full list unless a test stops at an older version. */
  migrations?: readonly Migration[];
}

export function storeFileIn(dataDir: string): string {
  return join(dataDir, STORE_FILE);
}

/** Opens (creating and migrating as needed) the SQLite store; rejects with what to do when it cannot. */
export async function openSqliteStore(opts: SqliteStoreOptions): Promise<Store> {
  const sqlite = openDatabase(opts.file);
  const db = new Kysely<StoreSchema>({ dialect: new SqliteDialect({ database: sqlite }) });
  try {
    const { from, to } = await migrate(db, opts.migrations ?? MIGRATIONS);
    if (from !== to) opts.logger?.info({ file: opts.file, from, to }, 'store schema migrated');
    return new SqliteStore(db, to, opts.dataDir ?? dirname(opts.file), opts.logger);
  } catch (err) {
    await db.destroy();
    throw new Error(`store ${opts.file}: ${(err as Error).message}`, { cause: err });
  }
}

function openDatabase(file: string): Database.Database {
  let sqlite: Database.Database;
  try {
    mkdirSync(dirname(file), { recursive: true });
    sqlite = new Database(file);
  } catch (err) {
    throw new Error(`cannot open the store ${file}: ${(err as Error).message}. Check that server.dataDir is a writable local folder.`, { cause: err });
  }
  try {
    const mode = sqlite.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`the filesystem refused WAL mode (got "${String(mode)}"): keep server.dataDir on a local disk (recordings may live on a network share)`);
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
  } catch (err) {
    sqlite.close();
    throw new Error(`cannot use the store ${file}: ${(err as Error).message}`, { cause: err });
  }
  return sqlite;
}

class SqliteStore implements Store {
  readonly recordings: KyselyRecordingIndex;
  readonly events: KyselyEventStore;
  readonly rules: KyselyRuleRepository;
  readonly outbox: KyselyOutbox;
  readonly auth: KyselyAuthRepository;
  readonly exports: KyselyExportStore;
  #closing: Promise<void> | null = null;

  constructor(
    private readonly db: Kysely<StoreSchema>,
    readonly schemaVersion: number,
    dataDir: string,
    logger?: Logger,
  ) {
    this.recordings = new KyselyRecordingIndex(db);
    this.events = new KyselyEventStore(db, dataDir, logger);
    this.rules = new KyselyRuleRepository(db);
    this.outbox = new KyselyOutbox(db);
    this.auth = new KyselyAuthRepository(db);
    this.exports = new KyselyExportStore(db, dataDir);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      // Taking the (single) connection waits for a transaction in flight to commit or roll back first.
      await this.db.connection().execute(async () => undefined);
      await this.db.destroy();
    })();
    return this.#closing;
  }
}
