// Schema migrations on real SQLite files: from an empty database, from every older version (same schema as a
// fresh one, rows kept), a database newer than this code refused, a failing step rolled back whole.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, openSqliteStore, SchemaTooNewError, type Migration } from '../../pipelines/store/index.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-migrations-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Tables, columns and indexes as SQLite reports them, for comparing two databases. */
function schemaOf(file: string): unknown {
  const db = new Database(file, { readonly: true });
  try {
    const objects = db.prepare("SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all() as { type: string; name: string }[];
    return objects.map((o) => ({ ...o, columns: o.type === 'table' ? db.pragma(`table_info(${o.name})`) : db.pragma(`index_info(${o.name})`) }));
  } finally {
    db.close();
  }
}

function versionOf(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT version FROM schema_version').get() as { version: number }).version;
  } finally {
    db.close();
  }
}

const LATEST = MIGRATIONS.length;

describe('migrations', () => {
  it('create the latest schema in an empty database, in WAL mode, and leave a migrated one alone', async () => {
    const file = join(dir, 'vigil.sqlite');
    const store = await openSqliteStore({ file });
    expect(store.schemaVersion).toBe(LATEST);
    await store.close();
    expect(versionOf(file)).toBe(LATEST);
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    const before = schemaOf(file);
    await (await openSqliteStore({ file })).close();
    expect(schemaOf(file)).toEqual(before);
  });

  for (let version = 0; version < LATEST; version++) {
    it(`upgrade a database at version ${version} to the same schema a fresh one gets`, async () => {
      const fresh = join(dir, 'fresh.sqlite');
      await (await openSqliteStore({ file: fresh })).close();
      const old = join(dir, 'old.sqlite');
      await (await openSqliteStore({ file: old, migrations: MIGRATIONS.slice(0, version) })).close();
      expect(versionOf(old)).toBe(version);
      const store = await openSqliteStore({ file: old });
      expect(store.schemaVersion).toBe(LATEST);
      await store.close();
      expect(schemaOf(old)).toEqual(schemaOf(fresh));
    });
  }

  it('version 1 -> 2 keeps every recording and totals them per camera', async () => {
    const file = join(dir, 'v1.sqlite');
    await (await openSqliteStore({ file, migrations: MIGRATIONS.slice(0, 1) })).close();
    const db = new Database(file);
    const insert = db.prepare('INSERT INTO recordings (camera, seq, file, pdt, duration, bytes, run) VALUES (?, ?, ?, ?, ?, ?, 1)');
    for (let i = 0; i < 10; i++) insert.run(i < 6 ? 'a' : 'b', i, `seg-${i}.ts`, 1000 * i, 1, 100 + i);
    db.close();
    const store = await openSqliteStore({ file });
    try {
      expect((await store.recordings.list('a')).map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5]);
      expect((await store.recordings.list('b')).map((r) => r.seq)).toEqual([6, 7, 8, 9]);
      // b holds 106+107+108+109 = 430 bytes: a 300-byte budget must drop the two oldest (213 bytes).
      expect((await store.recordings.takeExpired('b', { endedBefore: 0, maxBytes: 300 })).map((r) => r.seq)).toEqual([6, 7]);
      expect((await store.recordings.takeExpired('a', { endedBefore: 0, maxBytes: 615 })).map((r) => r.seq)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('refuse a database written by a newer Vigil, with what to do, and change nothing', async () => {
    const file = join(dir, 'newer.sqlite');
    const future: Migration = { version: LATEST + 1, name: 'from the future', up: async (db) => void (await db.schema.createTable('future').addColumn('x', 'integer').execute()) };
    await (await openSqliteStore({ file, migrations: [...MIGRATIONS, future] })).close();
    const before = schemaOf(file);
    const err = await openSqliteStore({ file }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).cause).toBeInstanceOf(SchemaTooNewError);
    expect((err as Error).message).toMatch(/newer Vigil.*Upgrade Vigil/);
    expect(schemaOf(file)).toEqual(before);
  });

  it('roll a failing step back whole: the database stays at the previous version and can be migrated later', async () => {
    const file = join(dir, 'fail.sqlite');
    const broken: Migration = {
      version: LATEST + 1,
      name: 'fails half-way',
      async up(db) {
        await db.schema.createTable('half').addColumn('x', 'integer').execute();
        await db.insertInto('recordings').values({ camera: 'c', seq: 1, file: 'seg-1.ts', pdt: 0, duration: 1, bytes: 1, run: 1 }).execute();
        throw new Error('disk full');
      },
    };
    await expect(openSqliteStore({ file, migrations: [...MIGRATIONS, broken] })).rejects.toThrow(/disk full/);
    expect(versionOf(file)).toBe(LATEST);
    const store = await openSqliteStore({ file });
    expect(await store.recordings.list('c')).toEqual([]);
    await store.close();
    expect(JSON.stringify(schemaOf(file))).not.toContain('"half"');
  });

  it('say what to do when the data folder cannot hold a database', async () => {
    const notAFolder = join(dir, 'file');
    await (await import('node:fs/promises')).writeFile(notAFolder, 'x');
    await expect(openSqliteStore({ file: join(notAFolder, 'vigil.sqlite') })).rejects.toThrow(/cannot open the store .*server\.dataDir/);
  });
});
