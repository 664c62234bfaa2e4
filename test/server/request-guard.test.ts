// DNS rebinding and cross-site pages: a foreign Host or Origin is refused with a coded error on every
// route of the server's own route table, on the not-found path, and on every websocket upgrade
// (socket.io and /api/stream); loopback names, the bound address and configured names pass.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { ErrorBody } from '../../server/wire.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

interface Answer {
  status: number;
  body: string;
  upgraded: boolean;
}

/** One request with exactly these headers (fetch cannot set Host); `upgrade` asks for a websocket. */
function send(port: number, method: string, path: string, headers: Record<string, string>, upgrade = false): Promise<Answer> {
  const wsHeaders = upgrade ? { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } : {};
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...wsHeaders, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => done({ status: res.statusCode ?? 0, body, upgraded: false }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      done({ status: res.statusCode ?? 0, body: '', upgraded: true });
    });
    req.on('error', fail);
    req.end();
  });
}

const codeOf = (a: Answer) => (JSON.parse(a.body) as ErrorBody).error.code;

/** A concrete URL for a route pattern, with parameters that the route accepts. */
function concrete(url: string): string {
  return url
    .replace(':camera', 'front')
    .replace(':id', 'front')
    .replace(':file', url.startsWith('/recordings') ? 'seg-1.ts' : 'live.m3u8')
    .replace('*', 'index.html');
}

describe('request guard', () => {
  let s: TestServer;
  let own: string;
  beforeAll(async () => {
    s = await startTestServer({
      server: { allowedHosts: ['vigil.lan', '.example.net'], allowedOrigins: ['https://vigil.example.com'] },
      cameras: [{ id: 'front', source: 'testsrc' }],
    });
    own = `127.0.0.1:${s.port}`;
    s.fakes.get('front')!.publish();
  });
  afterAll(() => s?.dispose());

  it('refuses a foreign Host and a foreign Origin on every route in the route table', async () => {
    const table = s.routes.filter((r) => r.method !== 'OPTIONS');
    expect(table.map((r) => r.url)).toEqual(expect.arrayContaining(['/api/health', '/api/cameras', '/api/cameras/:id', '/hls/:camera/:file', '/recordings/:camera/:file', '/*']));
    for (const r of table) {
      const path = concrete(r.url);
      const ok = await send(s.port, r.method, path, { host: own });
      expect(ok.status, `${r.method} ${path}`).not.toBe(403);
      const rebound = await send(s.port, r.method, path, { host: `attacker.example:${s.port}`, origin: `http://attacker.example:${s.port}` });
      expect(rebound.status, `${r.method} ${path}`).toBe(403);
      const crossSite = await send(s.port, r.method, path, { host: own, origin: 'http://attacker.example' });
      expect(crossSite.status, `${r.method} ${path}`).toBe(403);
      if (r.method === 'HEAD') continue; // no body to read the code from
      expect(codeOf(rebound)).toBe('FOREIGN_HOST');
      expect(JSON.parse(rebound.body).error.message).toMatch(/server\.allowedHosts/);
      expect(codeOf(crossSite)).toBe('FOREIGN_ORIGIN');
    }
  });

  it('refuses before routing: unknown paths and methods get the same refusal', async () => {
    for (const [method, path] of [['GET', '/no/such/page'], ['POST', '/api/cameras'], ['DELETE', '/api/nope'], ['GET', '/hls/nope/x.ts'], ['GET', '/api/cameras/%zz'], ['GET', '/%E0%A4%A']]) {
      const r = await send(s.port, method!, path!, { host: 'attacker.example' });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(codeOf(r)).toBe('FOREIGN_HOST');
    }
  });

  it('refuses a request without a Host header', async () => {
    const raw = await new Promise<string>((done, fail) => {
      const sock = tcpConnect(s.port, '127.0.0.1', () => sock.end('GET /api/health HTTP/1.0\r\n\r\n'));
      let text = '';
      sock.on('data', (d) => (text += d));
      sock.on('end', () => done(text));
      sock.on('error', fail);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 403/);
    expect(raw).toContain('"code":"FOREIGN_HOST"');
  });

  it('accepts loopback names, configured names and origins', async () => {
    for (const host of [own, `localhost:${s.port}`, `127.0.0.2:${s.port}`, `[::1]:${s.port}`, `app.localhost:${s.port}`, 'vigil.lan', 'VIGIL.LAN:80', 'example.net', 'cam.example.net']) {
      expect((await send(s.port, 'GET', '/api/health', { host })).status, host).toBe(200);
    }
    for (const origin of [`http://${own}`, 'https://vigil.example.com']) {
      expect((await send(s.port, 'GET', '/api/health', { host: own, origin })).status, origin).toBe(200);
    }
    for (const origin of ['null', 'https://vigil.example.com.attacker.example', `http://localhost:${s.port + 1}`, 'file://']) {
      expect((await send(s.port, 'GET', '/api/health', { host: own, origin })).status, origin).toBe(403);
    }
    for (const host of ['vigil.lan.attacker.example', 'example.net.attacker.example', '127.0.0.1.nip.io', 'localhost.attacker.example', 'user@127.0.0.1']) {
      expect((await send(s.port, 'GET', '/api/health', { host })).status, host).toBe(403);
    }
  });

  it('refuses foreign websocket upgrades on socket.io and /api/stream with a coded error', async () => {
    const targets = ['/api/stream', '/socket.io/?EIO=4&transport=websocket'];
    for (const path of targets) {
      const good = await send(s.port, 'GET', path, { host: own, origin: `http://${own}` }, true);
      expect(good.upgraded, path).toBe(true);
      const proxied = await send(s.port, 'GET', path, { host: own, origin: 'https://vigil.example.com' }, true);
      expect(proxied.upgraded, path).toBe(true);
      const rebound = await send(s.port, 'GET', path, { host: `attacker.example:${s.port}`, origin: `http://attacker.example:${s.port}` }, true);
      expect([rebound.upgraded, rebound.status, codeOf(rebound)], path).toEqual([false, 403, 'FOREIGN_HOST']);
      const crossSite = await send(s.port, 'GET', path, { host: own, origin: 'http://attacker.example' }, true);
      expect([crossSite.upgraded, crossSite.status, codeOf(crossSite)], path).toEqual([false, 403, 'FOREIGN_ORIGIN']);
    }
    const unknown = await send(s.port, 'GET', '/api/other', { host: own }, true);
    expect([unknown.status, codeOf(unknown)]).toEqual([404, 'NOT_FOUND']);
    const climbing = await send(s.port, 'GET', '/api/%2e%2e/stream', { host: own }, true);
    expect([climbing.status, codeOf(climbing)]).toEqual([400, 'BAD_PATH']);
  });

  it('refuses foreign socket.io long-polling, which never reaches fastify', async () => {
    const path = '/socket.io/?EIO=4&transport=polling';
    expect((await send(s.port, 'GET', path, { host: own })).status).toBe(200);
    const rebound = await send(s.port, 'GET', path, { host: 'attacker.example' });
    expect(rebound.status).toBe(403);
    // Refused before engine.io sees it (the poll gate checks Host/Origin, then credentials), in the catalogue's shape.
    expect(JSON.parse(rebound.body).error.code).toBe('FOREIGN_HOST');
    const crossSite = await send(s.port, 'GET', path, { host: own, origin: 'http://attacker.example' });
    expect(crossSite.status).toBe(403);
    expect(JSON.parse(crossSite.body).error.code).toBe('FOREIGN_ORIGIN');
  });
});

describe('request guard: the bound address', () => {
  const lan = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  const status = (host: string, port: number, hostHeader: string) =>
    new Promise<number>((done, fail) => {
      const req = request({ host, port, path: '/api/health', headers: { host: hostHeader } }, (res) => {
        res.resume();
        done(res.statusCode ?? 0);
      });
      req.on('error', fail);
      req.end();
    });

  it('accepts the address the server is bound to (every local one on a wildcard bind), and no other by default', async () => {
    expect(lan, 'this test needs a non-loopback IPv4 interface').toBeTruthy();
    const bound = await startTestServer({}, { host: lan! });
    const wildcard = await startTestServer({}, { host: '0.0.0.0' });
    const loop = await startTestServer({});
    try {
      expect(await status(lan!, bound.port, `${lan}:${bound.port}`)).toBe(200);
      expect(await status(lan!, wildcard.port, `${lan}:${wildcard.port}`)).toBe(200);
      expect(await status('127.0.0.1', wildcard.port, `attacker.example:${wildcard.port}`)).toBe(403);
      expect(await status('127.0.0.1', loop.port, `${lan}:${loop.port}`)).toBe(403);
    } finally {
      await Promise.all([bound.dispose(), wildcard.dispose(), loop.dispose()]);
    }
  });
});
