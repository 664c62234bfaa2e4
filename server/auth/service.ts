// Who is calling: users log in for a session (cookie), integrations send an API token. The service checks
// credentials against the store on every request (so a logout, a password change or a revoked token takes
// effect on the next one), rate-limits logins, writes the audit log (store + log, never a secret), and tells
// the live sockets when credentials end so they can drop the ones that lost theirs.
import type { IncomingHttpHeaders } from 'node:http';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KyselyAuthRepository, TokenRow } from '../../pipelines/store/index.ts';
import { SafeEmitter } from '../../pipelines/safe-emitter.ts';
import type { Logger } from '../log.ts';
import { Errors } from '../http/errors.ts';
import { decoyHash, generatePassword, hashPassword, newSecret, sha256, verifyPassword } from './passwords.ts';
import { LoginLimiter } from './rate-limit.ts';
import type { Role } from './roles.ts';

export const SESSION_COOKIE = 'vigil_session';
/** Sessions last 7 days from login; logout, a password change or removing the user end them sooner. */
export const SESSION_MS = 7 * 24 * 3600_000;

export interface Principal {
  /** 'none': auth is off (loopback only), everyone acts as the local admin. */
  via: 'session' | 'token' | 'none';
  name: string;
  role: Role;
  /** sha256 of the session id or token: what a later re-check looks up. */
  credential?: string;
}

export interface Credentials {
  headers: IncomingHttpHeaders;
  /** `?token=` of a request whose route accepts it (read-only video). */
  queryToken?: string | null;
  /** `?ticket=` of such a request: a video ticket from a playlist this server rewrote (see videoTicket). */
  queryTicket?: string | null;
}

/** How long a video ticket in a rewritten playlist stays good; a live player re-fetches its playlist every few seconds. */
export const TICKET_MS = 10 * 60_000;

interface AuthEvents {
  /** Some sessions or tokens ended: sockets re-check theirs. */
  revoked: [];
}

export interface AuthServiceOptions {
  repo: KyselyAuthRepository;
  enabled: boolean;
  log: Logger;
  limiter?: LoginLimiter;
}

export class AuthService extends SafeEmitter<AuthEvents> {
  readonly enabled: boolean;
  private readonly repo: KyselyAuthRepository;
  private readonly log: Logger;
  private readonly limiter: LoginLimiter;
  /** Signs video tickets; per process, so a restart ends them (players re-fetch the playlist with their token). */
  private readonly ticketKey = randomBytes(32);

  constructor(o: AuthServiceOptions) {
    super(o.log);
    this.enabled = o.enabled;
    this.repo = o.repo;
    this.log = o.log;
    this.limiter = o.limiter ?? new LoginLimiter();
  }

  /** First start with auth on: creates `admin` with a generated password and returns it (to print once); else null. */
  async ensureAdmin(): Promise<string | null> {
    await this.repo.deleteExpiredSessions();
    if (!this.enabled || (await this.repo.countUsers()) > 0) return null;
    const password = generatePassword();
    if (!(await this.repo.addUser('admin', 'admin', await hashPassword(password)))) return null;
    await this.audit('vigil', 'user-created', 'admin', 'first start: generated password printed to the terminal', null);
    return password;
  }

  /** The caller, or null (no credential, or one that is unknown, expired, ended or revoked). */
  async identify(c: Credentials): Promise<Principal | null> {
    if (!this.enabled) return { via: 'none', name: 'local', role: 'admin' };
    const bearer = /^Bearer\s+(\S+)$/i.exec(c.headers.authorization ?? '')?.[1];
    if (c.headers.authorization !== undefined) return bearer ? this.byToken(bearer) : null;
    if (c.queryToken) return this.byToken(c.queryToken);
    if (c.queryTicket) return this.byTicket(c.queryTicket);
    const session = readCookie(c.headers.cookie, SESSION_COOKIE);
    return session ? this.bySession(session) : null;
  }

  /** Whether a principal found earlier (a socket's) still holds. */
  async stillValid(p: Principal): Promise<boolean> {
    if (p.via === 'none' || !p.credential) return p.via === 'none';
    if (p.via === 'session') return (await this.repo.findSession(p.credential)) !== null;
    return (await this.repo.useToken(p.credential)) !== null;
  }

  /** Checks a password; returns the new session's secret (the cookie value), which is never stored. */
  async login(name: string, password: string, address: string): Promise<{ secret: string; role: Role; expiresAt: number }> {
    const wait = this.limiter.retryAfter(name, address);
    if (wait > 0) {
      await this.audit(name, 'login-refused', name, 'rate limited', address);
      throw Object.assign(Errors.RATE_LIMITED(`too many failed logins for "${name}" or from ${address}: try again in ${Math.ceil(wait / 1000)} s`), { retryAfter: Math.ceil(wait / 1000) });
    }
    const user = await this.repo.getUser(name);
    const ok = user ? await verifyPassword(password, user.password) : (await verifyPassword(password, await decoyHash()), false);
    if (!user || !ok) {
      this.limiter.fail(name, address);
      await this.audit(name, 'login-failed', name, user ? 'wrong password' : 'no such user', address);
      throw Errors.LOGIN_FAILED();
    }
    this.limiter.succeed(name);
    const secret = newSecret('vgs_');
    const expiresAt = Date.now() + SESSION_MS;
    await this.repo.addSession(sha256(secret), user.name, expiresAt, address);
    await this.audit(user.name, 'login', user.name, null, address);
    return { secret, role: user.role, expiresAt };
  }

  async logout(p: Principal | null, address: string): Promise<void> {
    if (p?.via !== 'session' || !p.credential) return;
    await this.repo.deleteSession(p.credential);
    await this.audit(p.name, 'logout', p.name, null, address);
    this.emit('revoked');
  }

  /** A user changes their own password: every session of theirs ends (the caller logs in again). */
  async changePassword(p: Principal, current: string, next: string, address: string): Promise<void> {
    const user = await this.repo.getUser(p.name);
    if (!user || !(await verifyPassword(current, user.password))) {
      await this.audit(p.name, 'password-change-failed', p.name, 'wrong current password', address);
      throw Errors.LOGIN_FAILED();
    }
    await this.repo.setPassword(p.name, await hashPassword(next));
    await this.audit(p.name, 'password-changed', p.name, 'every session ended', address);
    this.emit('revoked');
  }

  /** A new API token: the secret is returned once and only its sha256 is kept. */
  async createToken(by: Principal, name: string, role: Role, address: string): Promise<{ token: string; info: TokenRow }> {
    const token = newSecret('vgt_');
    const id = sha256(token).slice(0, 12);
    await this.repo.addToken({ id, name, role, hash: sha256(token), createdBy: by.name });
    await this.audit(by.name, 'token-created', id, `${name} (${role})`, address);
    const info = (await this.repo.listTokens()).find((t) => t.id === id)!;
    return { token, info };
  }

  listTokens(): Promise<TokenRow[]> {
    return this.repo.listTokens();
  }

  async revokeToken(by: Principal, id: string, address: string): Promise<boolean> {
    const done = await this.repo.revokeToken(id);
    if (done) {
      await this.audit(by.name, 'token-revoked', id, null, address);
      this.emit('revoked');
    }
    return done;
  }

  /** An entry in the audit table and the log. Never pass a secret. */
  async audit(actor: string, action: string, target: string | null, detail: string | null, address: string | null): Promise<void> {
    this.log.info({ audit: action, actor, target, ...(detail ? { detail } : {}), ...(address ? { address } : {}) }, `audit: ${actor} ${action}${target ? ` ${target}` : ''}`);
    await this.repo.audit({ at: Date.now(), actor, action, target, detail, address }).catch((err: unknown) => this.log.error({ err }, 'audit entry not stored'));
  }

  /**
   * A ticket for the segment URIs of a playlist fetched with `?token=`: players that cannot set headers drop the
   * playlist's query when they resolve segment URIs, and echoing the token itself into a response would spread it.
   * The ticket names the token by its stored hash, expires, is signed with a per-process key, and is honoured only
   * while the token is still valid (a revoked token's tickets stop at once).
   */
  videoTicket(p: Principal, now = Date.now()): string | null {
    if (p.via !== 'token' || !p.credential) return null;
    const body = `${p.credential}.${(now + TICKET_MS).toString(36)}`;
    return `${body}.${this.sign(body)}`;
  }

  private async byTicket(ticket: string): Promise<Principal | null> {
    const m = /^([0-9a-f]{64})\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(ticket);
    if (!m) return null;
    const [, hash, exp] = m as unknown as [string, string, string, string];
    const given = Buffer.from(m[3]!, 'base64url');
    const want = Buffer.from(this.sign(`${hash}.${exp}`), 'base64url');
    if (given.length !== want.length || !timingSafeEqual(given, want) || parseInt(exp, 36) < Date.now()) return null;
    const t = await this.repo.useToken(hash);
    return t ? { via: 'token', name: `token:${t.name}`, role: t.role, credential: hash } : null;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.ticketKey).update(body).digest('base64url');
  }

  private async bySession(secret: string): Promise<Principal | null> {
    const hash = sha256(secret);
    const s = await this.repo.findSession(hash);
    return s ? { via: 'session', name: s.user, role: s.role, credential: hash } : null;
  }

  private async byToken(token: string): Promise<Principal | null> {
    const hash = sha256(token);
    const t = await this.repo.useToken(hash);
    return t ? { via: 'token', name: `token:${t.name}`, role: t.role, credential: hash } : null;
  }
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim() || null;
  }
  return null;
}
