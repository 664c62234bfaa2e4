// Sessions, tokens and the audit log against a real server (auth on, real SQLite): cookie flags, logout and a
// password change end sessions, login rate limits per user and per address with Retry-After, a change by cookie
// needs the page's own origin, a viewer token cannot write, a token revoked mid-stream is refused on its next
// request (and its open stream is closed), who changed what is audited, and no secret ever reaches the log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { io } from 'socket.io-client';
import { hashPassword } from '../../server/auth/passwords.ts';
import { newEvent } from '../support/events.ts';
import { asPage, login, startAuthServer, tokenFor, type AuthServer } from '../support/auth.ts';

const RULE = (id: string) => ({ id, kind: 'yesno', question: 'is the gate open?', cameras: ['front'] });
const json = { 'content-type': 'application/json' };

describe('sessions and tokens', () => {
  let s: AuthServer;
  let admin: string;
  const secrets: string[] = [];
  const addUser = async (name: string, role: 'admin' | 'operator' | 'viewer', password: string) => void (await s.store.auth.addUser(name, role, await hashPassword(password)));
  const status = (path: string, init: RequestInit = {}) => fetch(new URL(path, s.url), init).then((r) => r.status);
  const from = (address: string) => ({ 'x-forwarded-for': address });

  beforeAll(async () => {
    // 127.0.0.1 plays the reverse proxy: X-Forwarded-For names the client (rate limits, audit), X-Forwarded-Proto the scheme.
    s = await startAuthServer({ server: { trustedProxies: ['127.0.0.1'] }, cameras: [{ id: 'front', source: 'testsrc' }] });
    s.fakes.get('front')!.publish();
    admin = (await login(s, 'admin', s.adminPassword)).cookie;
    secrets.push(admin.split('=')[1]!);
  });
  afterAll(() => s?.dispose());

  it('sets an HttpOnly, SameSite=Strict session cookie, Secure only when the client came over TLS through a trusted proxy', async () => {
    const plain = await login(s, 'viewer', 'viewer-pass-12345');
    expect(plain.status).toBe(200);
    expect(plain.body).toEqual({ auth: true, user: 'viewer', role: 'viewer', via: 'session' });
    expect(plain.setCookie).toMatch(/^vigil_session=vgs_[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    const r = await fetch(new URL('/api/login', s.url), { method: 'POST', headers: { ...json, 'x-forwarded-proto': 'https', ...from('203.0.113.9') }, body: JSON.stringify({ user: 'viewer', password: 'viewer-pass-12345' }) });
    expect(r.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
    secrets.push(plain.cookie.split('=')[1]!);
  });

  it('logout ends the session on the server: the same cookie is refused afterwards', async () => {
    const { cookie } = await login(s, 'viewer', 'viewer-pass-12345');
    expect(await status('/api/me', asPage(s, cookie))).toBe(200);
    const out = await fetch(new URL('/api/logout', s.url), asPage(s, cookie, { method: 'POST' }));
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/^vigil_session=; .*Max-Age=0/);
    expect(await status('/api/me', asPage(s, cookie))).toBe(401);
    expect(await status('/hls/front/live.m3u8', asPage(s, cookie))).toBe(401);
  });

  it("a password change ends every session of that user, and only that user's", async () => {
    await addUser('carol', 'operator', 'carol-old-password');
    const a = (await login(s, 'carol', 'carol-old-password')).cookie;
    const b = (await login(s, 'carol', 'carol-old-password')).cookie;
    const other = (await login(s, 'operator', 'operator-pass-1234')).cookie;
    const change = await fetch(new URL('/api/me/password', s.url), asPage(s, a, { method: 'POST', headers: json, body: JSON.stringify({ current: 'carol-old-password', password: 'carol-new-password' }) }));
    expect(change.status).toBe(200);
    expect(await status('/api/me', asPage(s, a))).toBe(401);
    expect(await status('/api/me', asPage(s, b))).toBe(401);
    expect(await status('/api/me', asPage(s, other))).toBe(200);
    expect((await login(s, 'carol', 'carol-old-password')).status).toBe(401);
    expect((await login(s, 'carol', 'carol-new-password')).status).toBe(200);
    // The same through the store, as `vigil users passwd` does from another process.
    const c = (await login(s, 'carol', 'carol-new-password')).cookie;
    await s.store.auth.setPassword('carol', await hashPassword('carol-third-password'));
    expect(await status('/api/me', asPage(s, c))).toBe(401);
  });

  it('rate-limits failed logins per user (any address) and per address (any user), with Retry-After and a clear message', async () => {
    await addUser('dave', 'viewer', 'dave-password-123');
    for (let i = 0; i < 5; i++) expect((await loginFrom('dave', 'wrong', `198.51.100.${i}`)).status).toBe(401);
    const locked = await loginFrom('dave', 'dave-password-123', '198.51.100.200');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);
    expect(locked.body.error).toMatchObject({ code: 'RATE_LIMITED' });
    expect(locked.body.error.message).toMatch(/too many failed logins for "dave".*try again in \d+ s/);
    // One address guessing many names: refused after 20 failures, even for a name it has not tried yet.
    for (let i = 0; i < 20; i++) expect((await loginFrom(`guess${i}`, 'wrong', '192.0.2.77')).status).toBe(401);
    expect((await loginFrom('viewer', 'viewer-pass-12345', '192.0.2.77')).status).toBe(429);
    expect((await loginFrom('viewer', 'viewer-pass-12345', '192.0.2.78')).status).toBe(200);
    const audit = await s.store.auth.auditLog(200);
    expect(audit.filter((e) => e.action === 'login-failed' && e.target === 'dave').map((e) => e.address)).toHaveLength(5);
    expect(audit.some((e) => e.action === 'login-refused' && e.address === '192.0.2.77')).toBe(true);
  });

  it('a change made with a cookie needs the page itself: no Origin is refused unless Sec-Fetch-Site says same-origin', async () => {
    const op = (await login(s, 'operator', 'operator-pass-1234')).cookie;
    const post = (headers: Record<string, string>, id: string) => fetch(new URL('/api/rules', s.url), { method: 'POST', headers: { ...json, cookie: op, ...headers }, body: JSON.stringify(RULE(id)) });
    const bare = await post({}, 'csrf-1');
    expect(bare.status).toBe(403);
    expect(((await bare.json()) as { error: { code: string } }).error.code).toBe('CROSS_SITE');
    expect((await post({ 'sec-fetch-site': 'cross-site' }, 'csrf-2')).status).toBe(403);
    expect((await post({ origin: 'http://evil.example' }, 'csrf-3')).status).toBe(403);
    expect((await post({ 'sec-fetch-site': 'same-origin' }, 'csrf-4')).status).toBe(201);
    expect((await post({ origin: s.url.replace(/\/$/, '') }, 'csrf-5')).status).toBe(201);
    expect((await s.store.rules.list()).map((r) => r.rule.id).filter((id) => id.startsWith('csrf'))).toEqual(['csrf-4', 'csrf-5']);
  });

  it('a viewer token reads but cannot write; an operator token writes, and the rule version and the audit name who', async () => {
    const viewer = await tokenFor(s, admin, 'viewer', 'dash-viewer');
    const operator = await tokenFor(s, admin, 'operator', 'automation');
    secrets.push(viewer.token, operator.token);
    const event = await s.store.events.open(newEvent({ camera: 'front' }));
    const as = (t: string, method: string, body?: unknown) => ({ method, headers: { authorization: `Bearer ${t}`, ...(body ? json : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    expect(await status('/api/events', as(viewer.token, 'GET'))).toBe(200);
    expect(await status('/api/rules', as(viewer.token, 'POST', RULE('by-viewer')))).toBe(403);
    expect(await status(`/api/events/${event.id}`, as(viewer.token, 'PATCH', { reviewed: true }))).toBe(403);
    expect(await status(`/api/events/${event.id}`, as(viewer.token, 'DELETE'))).toBe(403);
    expect(await status('/api/tokens', as(viewer.token, 'GET'))).toBe(403);
    expect(await status('/api/rules', as(operator.token, 'POST', RULE('by-token')))).toBe(201);
    expect(await status(`/api/events/${event.id}`, as(operator.token, 'PATCH', { reviewed: true, verdict: 'false-positive' }))).toBe(200);
    expect(await status('/api/tokens', as(operator.token, 'GET'))).toBe(403);
    expect((await s.store.rules.get('by-viewer'))).toBeNull();
    expect((await s.store.rules.get('by-token'))!.author).toBe('token:automation');
    const carolCookie = (await login(s, 'operator', 'operator-pass-1234')).cookie;
    expect(await status('/api/rules/by-token', asPage(s, carolCookie, { method: 'PUT', headers: json, body: JSON.stringify({ ...RULE('by-token'), question: 'is the gate shut?' }) }))).toBe(200);
    expect((await s.store.rules.get('by-token'))!.author).toBe('operator');
    expect(await status('/api/rules/by-token', as(operator.token, 'DELETE'))).toBe(200);
    const audit = await s.store.auth.auditLog(200);
    expect(audit.find((e) => e.action === 'rule-created' && e.target === 'by-token')).toMatchObject({ actor: 'token:automation' });
    expect(audit.find((e) => e.action === 'rule-changed' && e.target === 'by-token')).toMatchObject({ actor: 'operator' });
    expect(audit.find((e) => e.action === 'rule-deleted' && e.target === 'by-token')).toMatchObject({ actor: 'token:automation' });
    expect(s.logLines.some((l) => l.includes('"audit":"rule-deleted"') && l.includes('"actor":"token:automation"'))).toBe(true);
    expect(audit.find((e) => e.action === 'event-reviewed' && e.target === event.id)).toMatchObject({ actor: 'token:automation', detail: expect.stringContaining('false-positive') });
    const listed = (await (await fetch(new URL('/api/tokens', s.url), asPage(s, admin))).json()) as { id: string; lastUsed: number | null; token?: string }[];
    expect(listed.find((t) => t.id === operator.id)?.lastUsed).toBeGreaterThan(0);
    expect(listed.every((t) => t.token === undefined)).toBe(true);
  });

  it('a token revoked mid-stream is refused on its next request, and its open /api/stream is closed', async () => {
    const player = await tokenFor(s, admin, 'viewer', 'player');
    secrets.push(player.token);
    const seg = `/hls/front/seg-1-0.ts?token=${player.token}`;
    for (let i = 0; i < 3; i++) expect(await status(seg)).toBe(200);
    const playlist = await (await fetch(new URL(`/hls/front/live.m3u8?token=${player.token}`, s.url))).text();
    const ticketed = `/hls/front/${playlist.split('\n').find((l) => l && !l.startsWith('#'))!}`;
    expect(await status(ticketed)).toBe(200);
    const ws = new WebSocket(s.url.replace('http', 'ws') + 'api/stream', { headers: { authorization: `Bearer ${player.token}` } });
    await new Promise((done, fail) => ws.once('open', done).once('error', fail));
    const closed = new Promise<number>((done) => ws.once('close', (code) => done(code)));
    expect(await status(`/api/tokens/${player.id}`, asPage(s, admin, { method: 'DELETE' }))).toBe(200);
    expect(await status(seg)).toBe(401);
    expect(await status(ticketed)).toBe(401); // the playlist's tickets end with their token
    expect(await status('/hls/front/live.m3u8', { headers: { authorization: `Bearer ${player.token}` } })).toBe(401);
    expect(await closed).toBe(1008);
  });

  it('logging out drops the live socket.io connection made with that session', async () => {
    const { cookie } = await login(s, 'viewer', 'viewer-pass-12345');
    const socket = io(s.url, { transports: ['websocket'], extraHeaders: { cookie, origin: s.url.replace(/\/$/, '') }, reconnection: false });
    try {
      await new Promise((done, fail) => socket.once('connect', () => done(null)).once('connect_error', fail));
      const dropped = new Promise<string>((done) => socket.once('disconnect', (reason) => done(reason)));
      expect(await status('/api/logout', asPage(s, cookie, { method: 'POST' }))).toBe(200);
      expect(await dropped).toBe('io server disconnect');
    } finally {
      socket.close();
    }
  });

  it('never writes a password, a session id or a token to the log; the admin password was announced once, not logged', async () => {
    expect(s.announced.join('').split(s.adminPassword)).toHaveLength(2);
    const log = s.logLines.join('\n');
    expect(log).toContain('"audit":"login"'); // the audit reaches the log...
    for (const secret of [s.adminPassword, 'viewer-pass-12345', 'operator-pass-1234', 'carol-new-password', 'dave-password-123', ...secrets]) expect(log).not.toContain(secret);
    expect(log).not.toMatch(/vg[st]_[\w-]{20}/);
  });

  async function loginFrom(user: string, password: string, address: string) {
    const r = await fetch(new URL('/api/login', s.url), { method: 'POST', headers: { ...json, ...from(address) }, body: JSON.stringify({ user, password }) });
    return { status: r.status, headers: r.headers, body: (await r.json()) as { error: { code: string; message: string } } };
  }
});
