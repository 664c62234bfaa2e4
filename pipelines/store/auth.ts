// Users, sessions, API tokens and the audit log over any Kysely database. It stores what it is given: hashing
// passwords and tokens is the caller's (server/auth), so no secret ever reaches this module. Changing a password
// or removing a user ends that user's sessions in the same transaction.
import type { Kysely } from 'kysely';
import type { ApiTokensTable, RoleName, StoreSchema } from './schema.ts';

export type { RoleName };

export interface UserRow {
  name: string;
  role: RoleName;
  /** scrypt hash string. */
  password: string;
  createdAt: number;
  updatedAt: number;
}

export interface SessionRow {
  user: string;
  role: RoleName;
  expiresAt: number;
}

export interface TokenRow {
  id: string;
  name: string;
  role: RoleName;
  createdBy: string;
  createdAt: number;
  lastUsed: number | null;
  revokedAt: number | null;
}

export interface AuditEntry {
  at: number;
  actor: string;
  action: string;
  target?: string | null;
  detail?: string | null;
  address?: string | null;
}

export class KyselyAuthRepository {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  async countUsers(): Promise<number> {
    const row = await this.db.selectFrom('users').select((s) => s.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async getUser(name: string): Promise<UserRow | null> {
    const r = await this.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    return r ? { name: r.name, role: r.role, password: r.password, createdAt: Number(r.created_at), updatedAt: Number(r.updated_at) } : null;
  }

  async listUsers(): Promise<Omit<UserRow, 'password'>[]> {
    const rows = await this.db.selectFrom('users').select(['name', 'role', 'created_at', 'updated_at']).orderBy('name').execute();
    return rows.map((r) => ({ name: r.name, role: r.role, createdAt: Number(r.created_at), updatedAt: Number(r.updated_at) }));
  }

  /** False when the name is taken. */
  async addUser(name: string, role: RoleName, passwordHash: string, now = Date.now()): Promise<boolean> {
    const r = await this.db
      .insertInto('users')
      .values({ name, role, password: passwordHash, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** New password (and optionally role); every session of the user ends. False when there is no such user. */
  setPassword(name: string, passwordHash: string, now = Date.now()): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx.updateTable('users').set({ password: passwordHash, updated_at: now }).where('name', '=', name).executeTakeFirst();
      await trx.deleteFrom('sessions').where('user', '=', name).execute();
      return Number(r.numUpdatedRows) > 0;
    });
  }

  async setRole(name: string, role: RoleName, now = Date.now()): Promise<boolean> {
    const r = await this.db.updateTable('users').set({ role, updated_at: now }).where('name', '=', name).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  removeUser(name: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('sessions').where('user', '=', name).execute();
      const r = await trx.deleteFrom('users').where('name', '=', name).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }

  async addSession(idHash: string, user: string, expiresAt: number, address: string | null, now = Date.now()): Promise<void> {
    await this.db.insertInto('sessions').values({ id_hash: idHash, user, created_at: now, expires_at: expiresAt, address }).execute();
  }

  /** The live session with this id hash and its user's current role; null when unknown, ended or expired. */
  async findSession(idHash: string, now = Date.now()): Promise<SessionRow | null> {
    const r = await this.db
      .selectFrom('sessions')
      .innerJoin('users', 'users.name', 'sessions.user')
      .select(['sessions.user as user', 'users.role as role', 'sessions.expires_at as expires_at'])
      .where('sessions.id_hash', '=', idHash)
      .where('sessions.expires_at', '>', now)
      .executeTakeFirst();
    return r ? { user: r.user, role: r.role, expiresAt: Number(r.expires_at) } : null;
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
  }

  async deleteExpiredSessions(now = Date.now()): Promise<number> {
    const r = await this.db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async addToken(t: { id: string; name: string; role: RoleName; hash: string; createdBy: string }, now = Date.now()): Promise<void> {
    await this.db.insertInto('api_tokens').values({ id: t.id, name: t.name, role: t.role, hash: t.hash, created_by: t.createdBy, created_at: now, last_used: null, revoked_at: null }).execute();
  }

  async listTokens(): Promise<TokenRow[]> {
    const rows = await this.db.selectFrom('api_tokens').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toToken);
  }

  /** The unrevoked token with this hash; marks its last use. */
  async useToken(hash: string, now = Date.now()): Promise<TokenRow | null> {
    const r = await this.db.selectFrom('api_tokens').selectAll().where('hash', '=', hash).where('revoked_at', 'is', null).executeTakeFirst();
    if (!r) return null;
    // At most one write a minute per token: a player fetching a segment a second must not write every second.
    if (r.last_used === null || now - Number(r.last_used) > 60_000) await this.db.updateTable('api_tokens').set({ last_used: now }).where('id', '=', r.id).execute();
    return toToken({ ...r, last_used: now });
  }

  /** False when there is no such token or it was already revoked. */
  async revokeToken(id: string, now = Date.now()): Promise<boolean> {
    const r = await this.db.updateTable('api_tokens').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async audit(e: AuditEntry): Promise<void> {
    await this.db.insertInto('audit').values({ at: e.at, actor: e.actor, action: e.action, target: e.target ?? null, detail: e.detail ?? null, address: e.address ?? null }).execute();
  }

  /** Newest first. */
  async auditLog(limit = 100): Promise<Required<AuditEntry>[]> {
    const rows = await this.db.selectFrom('audit').selectAll().orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => ({ at: Number(r.at), actor: r.actor, action: r.action, target: r.target, detail: r.detail, address: r.address }));
  }
}

function toToken(r: ApiTokensTable): TokenRow {
  return { id: r.id, name: r.name, role: r.role, createdBy: r.created_by, createdAt: Number(r.created_at), lastUsed: r.last_used === null ? null : Number(r.last_used), revokedAt: r.revoked_at === null ? null : Number(r.revoked_at) };
}
