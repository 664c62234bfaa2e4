// A server with auth on (on 127.0.0.1, `server.auth: on`), its generated admin password captured from the
// announcement (what `vigil serve` prints to stdout), users of each role, and log-in / request helpers.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { VigilConfigInput } from '../../config/schema.ts';
import { hashPassword } from '../../server/auth/passwords.ts';
import type { Role } from '../../server/auth/roles.ts';
import type { StartOptions } from '../../server/app.ts';
import { startTestServer, type TestServer } from './server.ts';

export const PASSWORDS: Record<Role, string> = { admin: '', operator: 'operator-pass-1234', viewer: 'viewer-pass-12345' };

export interface AuthServer extends TestServer {
  adminPassword: string;
  /** Every line the server logged (pino JSON). */
  logLines: string[];
  /** Every announcement printed (stdout in `vigil serve`). */
  announced: string[];
}

export async function startAuthServer(config: Partial<VigilConfigInput> = {}, opts: StartOptions & { real?: boolean; clientDir?: string; host?: string; dataDir?: string } = {}): Promise<AuthServer> {
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const announced: string[] = [];
  const s = await startTestServer(
    { ...config, server: { auth: 'on', ...config.server } },
    { logger: pino({ level: 'debug' }, sink), announce: (t) => announced.push(t), ...opts },
  );
  const adminPassword = /\n {4}(\S+)\n/.exec(announced.join(''))?.[1];
  if (!adminPassword) throw new Error(`no admin password announced: ${JSON.stringify(announced)}`);
  for (const role of ['operator', 'viewer'] as const) await s.store.auth.addUser(role, role, await hashPassword(PASSWORDS[role]));
  return Object.assign(s, { adminPassword, logLines, announced });
}

export function passwordOf(s: AuthServer, role: Role): string {
  return role === 'admin' ? s.adminPassword : PASSWORDS[role];
}

/** Logs in as the user named after the role; returns the `vigil_session=...` cookie pair and the Set-Cookie header. */
export async function login(s: AuthServer, user: string, password: string): Promise<{ status: number; cookie: string; setCookie: string; body: unknown; headers: Headers }> {
  const r = await fetch(new URL('/api/login', s.url), { method: 'POST', headers: { 'content-type': 'application/json', origin: s.url.replace(/\/$/, '') }, body: JSON.stringify({ user, password }) });
  const setCookie = r.headers.get('set-cookie') ?? '';
  return { status: r.status, cookie: setCookie.split(';')[0] ?? '', setCookie, body: await r.json(), headers: r.headers };
}

/** A request as the dashboard sends it: cookie plus its own Origin on changes. */
export function asPage(s: AuthServer, cookie: string, init: RequestInit = {}): RequestInit {
  return { ...init, headers: { ...(init.headers as Record<string, string>), cookie, origin: s.url.replace(/\/$/, '') } };
}

export async function tokenFor(s: AuthServer, adminCookie: string, role: Role, name = `${role}-token`): Promise<{ id: string; token: string }> {
  const r = await fetch(new URL('/api/tokens', s.url), asPage(s, adminCookie, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, role }) }));
  if (r.status !== 201) throw new Error(`token not created: ${r.status} ${await r.text()}`);
  return (await r.json()) as { id: string; token: string };
}
