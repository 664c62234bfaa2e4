// Every route of the server's own route table (enumerated, never hand-listed), every kind of file it serves and
// both socket endpoints, on a Vigil bound to 0.0.0.0 (auth auto = on) and reached through a non-loopback address
// as another machine would: 401 without credentials, 403 for the role just below the one a route declares, and
// the route's normal answer for the role that may.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { RuleSchema } from '../../config/rule.ts';
import type { Access, Role } from '../../server/auth/roles.ts';
import type { RouteEntry } from '../../server/http/server.ts';
import { newEvent } from '../support/events.ts';
import { login, passwordOf, startAuthServer, tokenFor, type AuthServer } from '../support/auth.ts';

const REFUSALS = ['UNAUTHORIZED', 'FORBIDDEN', 'CROSS_SITE'];
const BELOW: Partial<Record<Access, Role>> = { operator: 'viewer', admin: 'operator' };
const RULE = (id: string) => ({ id, kind: 'yesno', question: 'is the gate open?', cameras: ['front'] });

function externalAddress(): string {
  const a = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
  if (!a) throw new Error('this machine has no non-loopback IPv4 address to reach the server from "outside"');
  return a.address;
}

describe('auth on every route, file and socket', () => {
  let s: AuthServer;
  let base: string;
  const cookies = {} as Record<Role, string>;
  const ids = { event: '', delEvent: '', token: '', n: 0, export: '', delExport: '' };
  const REC_PDT = Date.now() - 60_000;
  const range = `from=${REC_PDT}&to=${REC_PDT + 5000}`;

  const call = async (method: string, path: string, cookie: string | null, body?: unknown, extra: Record<string, string> = {}) => {
    const headers: Record<string, string> = { ...extra };
    if (cookie) Object.assign(headers, { cookie, origin: base });
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(new URL(path, base), { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await r.text();
    let code: string | null = null;
    try {
      code = (JSON.parse(text) as { error?: { code: string } }).error?.code ?? null;
    } catch {
      /* not JSON (a file, metrics text) */
    }
    return { status: r.status, code };
  };

  /** A concrete request for a route pattern, with a body where it takes one. */
  function requestFor(r: RouteEntry): { path: string; body?: unknown } {
    const u = r.url;
    const sub = (p: string) => p.replace(':camera', 'front');
    if (u === '/*') return { path: '/assets/app.js' };
    if (u.startsWith('/hls/')) return { path: sub(u).replace(':file', 'live.m3u8') };
    if (u.startsWith('/recordings/')) return { path: sub(u).replace(':file', 'rec-1.ts') };
    if (u === '/api/cameras/:id') return { path: '/api/cameras/front' };
    if (u === '/api/cameras/:id/vod.m3u8' || u === '/api/cameras/:id/recordings' || u === '/api/cameras/:id/evaluations') return { path: `${u.replace(':id', 'front')}?${range}` };
    if (u === '/api/exports' && r.method === 'POST') return { path: u, body: { camera: 'front', from: REC_PDT, to: REC_PDT + 1000 } };
    if (u === '/api/exports/:id/file') return { path: `/api/exports/${ids.export}/file` };
    if (u === '/api/exports/:id') return { path: `/api/exports/${r.method === 'DELETE' ? ids.delExport : ids.export}` };
    if (u === '/api/cameras/:id/frame.jpg') return { path: '/api/cameras/front/frame.jpg' };
    if (u === '/api/events/:id/clip.mp4') return { path: `/api/events/${ids.event}/clip.mp4` };
    if (u === '/api/events/:id/:image') return { path: `/api/events/${ids.event}/snapshot` };
    if (u === '/api/events/:id') return { path: `/api/events/${r.method === 'DELETE' ? ids.delEvent : ids.event}`, ...(r.method === 'PATCH' ? { body: { reviewed: true, verdict: 'true-positive' } } : {}) };
    if (u === '/api/rules/:id' && r.method === 'DELETE') return { path: '/api/rules/del-me' };
    if (u === '/api/rules/:id') return { path: '/api/rules/kept', ...(r.method === 'PUT' ? { body: RULE('kept') } : {}) };
    if (u === '/api/rules/:id/test') return { path: '/api/rules/kept/test', body: { camera: 'front' } };
    if (u === '/api/rules/:id/versions') return { path: '/api/rules/kept/versions' };
    if (u === '/api/rules/test') return { path: u, body: { rule: RULE('unsaved'), camera: 'front' } };
    if (u === '/api/rules' && r.method === 'POST') return { path: u, body: RULE(`made-${++ids.n}`) };
    if (u === '/api/tokens/:id') return { path: `/api/tokens/${ids.token}` };
    if (u === '/api/tokens' && r.method === 'POST') return { path: u, body: { name: `t${++ids.n}`, role: 'viewer' } };
    if (u === '/api/notifications/dead/:id/retry') return { path: '/api/notifications/dead/msg_none/retry' };
    if (u === '/api/snooze/:id') return { path: '/api/snooze/999' };
    if (u === '/api/snooze' && r.method === 'POST') return { path: u, body: { camera: 'front', minutes: 5 } };
    if (u === '/api/login') return { path: u, body: { user: 'nobody', password: 'x' } };
    if (u === '/api/me/password') return { path: u, body: { current: 'not-my-password', password: 'a-new-password-1' } };
    expect(u, `route ${r.method} ${u}: add a concrete request for it here`).not.toMatch(/[:*]/);
    return { path: u };
  }

  beforeAll(async () => {
    s = await startAuthServer({ server: { auth: 'auto' }, cameras: [{ id: 'front', source: 'testsrc' }] }, { host: '0.0.0.0' });
    base = `http://${externalAddress()}:${s.port}`;
    s.fakes.get('front')!.publish();
    s.fakes.get('front')!.emitFrame(); // GET /api/cameras/front/frame.jpg has a frame to send
    const rec = join(s.dataDir, 'recordings', 'front');
    mkdirSync(rec, { recursive: true });
    // A real second of video: the event clip route cuts it into an MP4.
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5', '-t', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'mpegts', join(rec, 'rec-1.ts')]);
    await s.store.recordings.add('front', { seq: 1, file: 'rec-1.ts', pdt: REC_PDT, duration: 1, bytes: statSync(join(rec, 'rec-1.ts')).size, run: 1 });
    const done = await s.store.exports.create({ camera: 'front', from: REC_PDT, to: REC_PDT + 1000, burnBoxes: false, author: 'test' });
    mkdirSync(s.store.exports.dir, { recursive: true });
    writeFileSync(s.store.exports.filePath(done.id), Buffer.alloc(64));
    await s.store.exports.done(done.id, { bytes: 64, duration: 1 });
    ids.export = done.id;
    ids.delExport = (await s.store.exports.create({ camera: 'front', from: REC_PDT, to: REC_PDT + 1000, burnBoxes: false, author: 'test' })).id;
    ids.event = (await s.store.events.open(newEvent({ camera: 'front', startPdt: REC_PDT + 500 }))).id;
    ids.delEvent = (await s.store.events.open(newEvent({ camera: 'front', startPdt: Date.now() - 5000 }))).id;
    await s.store.rules.save(RuleSchema.parse(RULE('kept')), 'api', 'test');
    await s.store.rules.save(RuleSchema.parse(RULE('del-me')), 'api', 'test');
    for (const role of ['admin', 'operator', 'viewer'] as const) {
      const l = await login(s, role, passwordOf(s, role));
      expect(l.status, role).toBe(200);
      cookies[role] = l.cookie;
    }
    ids.token = (await tokenFor(s, cookies.admin, 'viewer', 'throwaway')).id;
  });
  afterAll(() => s?.dispose());

  it('auth is on for a server bound to 0.0.0.0 (auth: auto) and every route declares who may use it', () => {
    expect(s.auth.enabled).toBe(true);
    expect(s.routes.length).toBeGreaterThan(20);
    for (const r of s.routes) expect(r.access, `${r.method} ${r.url} declares no access (config.access)`).toBeDefined();
    const publicRoutes = s.routes.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.url}`);
    expect(publicRoutes.sort()).toEqual(['GET /*', 'GET /api/health', 'HEAD /*', 'HEAD /api/health', 'POST /api/login', 'POST /api/logout'].sort());
    expect(s.routes.filter((r) => r.queryToken).map((r) => r.url)).toEqual(expect.arrayContaining(['/hls/:camera/:file', '/recordings/:camera/:file']));
    expect(s.routes.filter((r) => r.queryToken).every((r) => r.method === 'GET' || r.method === 'HEAD')).toBe(true);
  });

  it('every route in the table: 401 without credentials, 403 for the role below, its own answer for the role that may', async () => {
    const ordered = [...s.routes].sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
    for (const r of ordered) {
      const what = `${r.method} ${r.url}`;
      const req = requestFor(r);
      const none = await call(r.method, req.path, null, req.body);
      if (r.access === 'public') expect(REFUSALS, what).not.toContain(none.code);
      else expect({ what, status: none.status, code: r.method === 'HEAD' ? 'UNAUTHORIZED' : none.code }).toEqual({ what, status: 401, code: 'UNAUTHORIZED' });
      const below = BELOW[r.access ?? 'admin'];
      if (below) {
        const low = await call(r.method, req.path, cookies[below], req.body);
        expect({ what, below, status: low.status, code: r.method === 'HEAD' ? 'FORBIDDEN' : low.code }).toEqual({ what, below, status: 403, code: 'FORBIDDEN' });
      }
      if (r.access === 'public') continue;
      const may: Role = r.access === 'admin' ? 'admin' : r.access === 'operator' ? 'operator' : 'viewer';
      const ok = await call(r.method, req.path, cookies[may], requestFor(r).body);
      expect({ what, may, refused: REFUSALS.includes(ok.code ?? ''), error: ok.status >= 500 && ok.code !== 'ENGINE_UNAVAILABLE' }).toEqual({ what, may, refused: false, error: false });
      if (r.method === 'GET') expect({ what, status: ok.status }).toEqual({ what, status: 200 });
    }
  });

  it('every kind of file: the dashboard is public, video and event images need a viewer, ?token= works for video only', async () => {
    const viewer = await tokenFor(s, cookies.admin, 'viewer', 'player');
    const files = { video: ['/hls/front/live.m3u8', '/hls/front/seg-1-0.ts', '/recordings/front/rec-1.ts'], image: [`/api/events/${ids.event}/snapshot`, `/api/events/${ids.event}/thumbnail`] };
    for (const p of ['/', '/assets/app.js', '/camera/front']) expect((await call('GET', p, null)).status, p).toBe(200);
    for (const p of [...files.video, ...files.image]) {
      expect((await call('GET', p, null)).status, p).toBe(401);
      expect((await call('GET', p, cookies.viewer)).status, p).toBe(200);
      expect((await call('GET', p, null, undefined, { authorization: `Bearer ${viewer.token}` })).status, p).toBe(200);
    }
    for (const p of files.video) expect((await call('GET', `${p}?token=${viewer.token}`, null)).status, p).toBe(200);
    // A player given the playlist URL with ?token= resolves segment URIs without the query: they carry a video
    // ticket, never the token itself (no response spreads a token), and the ticket opens video only.
    const listed = await (await fetch(new URL(`/hls/front/live.m3u8?token=${viewer.token}`, base))).text();
    expect(listed).not.toContain(viewer.token);
    const segment = listed.split('\n').find((l) => l && !l.startsWith('#'))!;
    expect(segment).toMatch(/^seg-1-0\.ts\?ticket=[^&]+$/);
    const ticket = new URL(segment, base).search;
    expect((await call('GET', `/hls/front/seg-1-0.ts${ticket}`, null)).status).toBe(200);
    expect((await call('GET', `/hls/front/seg-1-0.ts${ticket.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))}`, null)).status).toBe(401);
    for (const p of ['/api/events', '/api/cameras']) expect((await call('GET', `${p}${ticket}`, null)).status, p).toBe(401);
    // The query parameter is for players that cannot set headers, and for read-only video only.
    for (const p of [...files.image, '/api/events', '/api/cameras', '/api/me']) expect((await call('GET', `${p}?token=${viewer.token}`, null)).status, p).toBe(401);
    expect((await call('GET', '/metrics', null)).status).toBe(401); // from another machine: a token is needed
    expect((await call('GET', '/metrics', null, undefined, { authorization: `Bearer ${viewer.token}` })).status).toBe(200);
    expect((await call('GET', '/api/cameras', null, undefined, { authorization: 'Bearer vgt_forged' })).status).toBe(401);
    expect((await call('GET', '/api/cameras', 'vigil_session=vgs_forged')).status).toBe(401);
  });

  it('socket.io (polling and websocket) and /api/stream: 401 without credentials, open for a viewer (cookie or token)', async () => {
    const viewer = await tokenFor(s, cookies.admin, 'viewer', 'sockets');
    const poll = (headers: Record<string, string>) => fetch(new URL('/socket.io/?EIO=4&transport=polling', base), { headers }).then((r) => r.status);
    expect(await poll({})).toBe(401);
    expect(await poll({ cookie: 'vigil_session=vgs_forged' })).toBe(401);
    expect(await poll({ cookie: cookies.viewer })).toBe(200);
    expect(await poll({ authorization: `Bearer ${viewer.token}` })).toBe(200);
    const ws = base.replace('http', 'ws');
    for (const path of ['/socket.io/?EIO=4&transport=websocket', '/api/stream']) {
      expect(await upgrade(`${ws}${path}`, {}), path).toBe(401);
      expect(await upgrade(`${ws}${path}`, { cookie: cookies.viewer, origin: base }), path).toBe('open');
      expect(await upgrade(`${ws}${path}`, { authorization: `Bearer ${viewer.token}` }), path).toBe('open');
    }
  });

  it('X-Forwarded-For from an address not in trustedProxies is ignored: the login limit counts the real client', async () => {
    const attempt = (i: number) =>
      fetch(new URL('/api/login', base), { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': `203.0.113.${i}` }, body: JSON.stringify({ user: `spoof${i}`, password: 'x' }) });
    // Each attempt claims another address and another user: were the header believed, none would ever be limited.
    let refused: Response | null = null;
    for (let i = 0; i <= 20 && !refused; i++) {
      const r = await attempt(i);
      if (r.status === 429) refused = r;
      else expect(r.status).toBe(401);
    }
    expect(refused?.status).toBe(429);
    expect(((await refused!.json()) as { error: { message: string } }).error.message).toContain(`from ${externalAddress()}`);
  });
});

/** Opens a websocket: 'open', or the HTTP status it was refused with. */
function upgrade(url: string, headers: Record<string, string>): Promise<number | 'open'> {
  return new Promise((done, fail) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      done('open');
    });
    ws.on('unexpected-response', (_req, res) => {
      done(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', (err) => fail(err));
  });
}
