// HTTP routes against a real server on port 0 with scripted cameras (the scripted supervisor keeps the
// real one's contract: test/server/camera-contract.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { CameraInfo, ErrorBody, HealthInfo } from '../../server/wire.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const SECRET_SOURCE = 'rtsp://user:s3cret@127.0.0.1:1/x';

/** Raw GET that sends the path exactly as given (fetch would normalise `..` away). */
function rawGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

describe('http routes', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({
      cameras: [
        { id: 'front', name: 'Front door', source: 'testsrc' },
        { id: 'secret', source: SECRET_SOURCE },
        { id: 'off', source: 'testsrc', enabled: false },
        { id: 'late', source: 'testsrc' },
      ],
    });
    // The supervisor's reason may quote ffmpeg's stderr with the URL in it: the API must scrub it.
    s.fakes.get('secret')!.setState({ state: 'offline', reason: `Connection refused: ${SECRET_SOURCE} (s3cret)` });
    const hls = join(s.dataDir, 'hls', 'front');
    mkdirSync(hls, { recursive: true });
    writeFileSync(join(hls, 'live.m3u8'), '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nseg-1.ts\n');
    writeFileSync(join(hls, 'seg-1.ts'), Buffer.alloc(188, 0x47));
    writeFileSync(join(s.dataDir, 'outside.txt'), 'OUTSIDE');
    mkdirSync(join(s.dataDir, 'hls', 'secret'), { recursive: true });
  });
  afterAll(() => s?.dispose());

  it('prints a 127.0.0.1 URL with the bound port', () => {
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/`);
    expect(s.port).toBeGreaterThan(0);
  });

  it('GET /api/health (no engine: engine.state is "none")', async () => {
    const r = await fetch(new URL('/api/health', s.url));
    expect(r.status).toBe(200);
    const h = (await r.json()) as HealthInfo;
    expect(h.ok).toBe(true);
    expect(h.cameras).toBe(4);
    expect(h.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(h.engine).toEqual({ state: 'none' });
  });

  it('GET /api/cameras lists public fields only', async () => {
    const cams = (await (await fetch(new URL('/api/cameras', s.url))).json()) as CameraInfo[];
    expect(cams.map((c) => c.id)).toEqual(['front', 'secret', 'off', 'late']);
    const front = cams[0]!;
    expect(front).toMatchObject({ name: 'Front door', state: 'connecting', run: 1, hlsRun: null, hls: '/hls/front/live.m3u8' });
    expect(Object.keys(front).sort()).toEqual(
      ['decode', 'framesDropped', 'framesSampled', 'hls', 'hlsRun', 'id', 'lastFramePdt', 'name', 'reason', 'restarts', 'run', 'sampleInterval', 'state', 'video'].sort(),
    );
    expect(cams[2]).toMatchObject({ state: 'disabled' });
    expect(cams[1]!.state).toBe('offline');
    expect(cams[1]!.reason).toContain('Connection refused');
  });

  it('never sends camera credentials, in any response', async () => {
    const paths = ['/api/cameras', '/api/cameras/secret', '/api/health', '/', '/camera/secret', '/api/cameras/nope', '/hls/secret/live.m3u8'];
    for (const p of paths) {
      const r = await rawGet(s.port, p);
      expect(r.body, p).not.toContain('s3cret');
      expect(r.body, p).not.toContain('user:');
      expect(JSON.stringify(r.headers), p).not.toContain('s3cret');
    }
  });

  it('GET /api/cameras/:id and a JSON 404 for an unknown id', async () => {
    const ok = await fetch(new URL('/api/cameras/front', s.url));
    expect(((await ok.json()) as CameraInfo).id).toBe('front');
    const missing = await fetch(new URL('/api/cameras/nope', s.url));
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/application\/json/);
    expect(await missing.json()).toEqual({ error: { status: 404, code: 'NOT_FOUND', message: 'no camera "nope"' } });
    const bad = await fetch(new URL('/api/cameras/bad%20id', s.url));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorBody).error.code).toBe('BAD_REQUEST');
  });

  it('serves live playlists uncached and segments as MPEG-TS', async () => {
    const pl = await fetch(new URL('/hls/front/live.m3u8', s.url));
    expect(pl.status).toBe(200);
    expect(pl.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(pl.headers.get('cache-control')).toMatch(/no-cache/);
    expect(await pl.text()).toContain('seg-1.ts');
    const seg = await fetch(new URL('/hls/front/seg-1.ts', s.url));
    expect(seg.status).toBe(200);
    expect(seg.headers.get('content-type')).toBe('video/mp2t');
    expect((await seg.arrayBuffer()).byteLength).toBe(188);
    expect((await fetch(new URL('/hls/front/seg-99.ts', s.url))).status).toBe(404);
  });

  it('serves a segment that was just retired to recordings', async () => {
    const rec = join(s.dataDir, 'recordings', 'front');
    mkdirSync(rec, { recursive: true });
    writeFileSync(join(rec, 'seg-0.ts'), Buffer.alloc(376, 0x47));
    const seg = await fetch(new URL('/hls/front/seg-0.ts', s.url));
    expect(seg.status).toBe(200);
    expect((await seg.arrayBuffer()).byteLength).toBe(376);
    // Playlists never come from recordings.
    const secretRec = join(s.dataDir, 'recordings', 'secret');
    mkdirSync(secretRec, { recursive: true });
    writeFileSync(join(secretRec, 'old.m3u8'), '#EXTM3U\n');
    expect((await fetch(new URL('/hls/secret/old.m3u8', s.url))).status).toBe(404);
  });

  it('holds a live camera\'s playlist request until its first playlist is written', async () => {
    const dir = join(s.dataDir, 'hls', 'late');
    const started = Date.now();
    setTimeout(() => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'live.m3u8'), '#EXTM3U\n');
    }, 400);
    s.fakes.get('late')!.setState({ state: 'live' });
    const r = await fetch(new URL('/hls/late/live.m3u8', s.url));
    expect(r.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    // An offline camera's missing playlist is a 404 at once.
    const t = Date.now();
    expect((await fetch(new URL('/hls/secret/live.m3u8', s.url))).status).toBe(404);
    expect(Date.now() - t).toBeLessThan(300);
  });

  it.each([
    '/hls/front/../../outside.txt',
    '/hls/front/..%2f..%2foutside.txt',
    '/hls/front/%2e%2e/%2e%2e/outside.txt',
    '/hls/front/%2E%2E%2F%2E%2E%2Foutside.txt',
    '/hls/front/%252e%252e/outside.txt',
    '/hls/%2e%2e/outside.txt',
    '/hls/..%5c..%5coutside.txt',
    '/hls/front/%2fetc%2fpasswd',
    '/hls/front//etc/passwd',
    '/hls/front/seg-1.ts%00.m3u8',
    '/hls/nope/live.m3u8',
    '/hls/front/outside.txt',
    '/hls/front/.hidden.m3u8',
    '/hls/front',
    '/assets/../../outside.txt',
    '/%2e%2e/outside.txt',
    '/api/cameras/%zz',
    '/%E0%A4%A',
  ])('refuses %s', async (path) => {
    const r = await rawGet(s.port, path);
    expect([400, 404]).toContain(r.status);
    expect(r.body).not.toContain('OUTSIDE');
    expect(JSON.parse(r.body)).toMatchObject({ error: { status: r.status } });
  });

  it('refuses a request target that is not a path', async () => {
    const r = await rawGet(s.port, 'http://evil/../outside.txt');
    expect(r.status).toBe(400);
  });

  it('serves the dashboard with an SPA fallback, but 404s missing assets and API routes', async () => {
    const root = await fetch(s.url);
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toMatch(/text\/html/);
    const deep = await fetch(new URL('/camera/front', s.url));
    expect(await deep.text()).toContain('<div id="app">');
    const asset = await fetch(new URL('/assets/app.js', s.url));
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toMatch(/immutable/);
    expect((await fetch(new URL('/assets/missing.js', s.url))).status).toBe(404);
    const api = await fetch(new URL('/api/nope', s.url));
    expect(api.status).toBe(404);
    expect(((await api.json()) as ErrorBody).error.code).toBe('NOT_FOUND');
  });

  it('answers a coded 404 for a method no route has (fastify does not answer 405)', async () => {
    const r = await fetch(new URL('/api/cameras', s.url), { method: 'POST' });
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: { status: 404, code: 'NOT_FOUND', message: 'no route POST /api/cameras' } });
  });

  it('serves byte ranges of live and recorded segments', async () => {
    const rec = join(s.dataDir, 'recordings', 'front');
    mkdirSync(rec, { recursive: true });
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    writeFileSync(join(rec, 'rec-7.ts'), bytes);
    for (const path of ['/recordings/front/rec-7.ts', '/hls/front/rec-7.ts']) {
      const r = await fetch(new URL(path, s.url), { headers: { range: 'bytes=100-299' } });
      expect(r.status, path).toBe(206);
      expect(r.headers.get('content-range'), path).toBe('bytes 100-299/1000');
      expect(Buffer.from(await r.arrayBuffer()).equals(bytes.subarray(100, 300)), path).toBe(true);
    }
    const whole = await fetch(new URL('/recordings/front/rec-7.ts', s.url));
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.headers.get('content-type')).toBe('video/mp2t');
    expect((await whole.arrayBuffer()).byteLength).toBe(1000);
    const outside = await fetch(new URL('/recordings/front/rec-7.ts', s.url), { headers: { range: 'bytes=5000-6000' } });
    expect(outside.status).toBe(416);
    expect(((await outside.json()) as ErrorBody).error.code).toBe('RANGE_NOT_SATISFIABLE');
    // Recordings serve segments only, and only of known cameras.
    expect((await fetch(new URL('/recordings/front/live.m3u8', s.url))).status).toBe(400);
    expect((await fetch(new URL('/recordings/nope/rec-7.ts', s.url))).status).toBe(404);
    expect((await fetch(new URL('/recordings/front/rec-8.ts', s.url))).status).toBe(404);
  });

  it('never lets a live playlist be answered from a cache validator', async () => {
    const pl = await fetch(new URL('/hls/front/live.m3u8', s.url));
    expect(pl.headers.get('etag')).toBeNull();
    expect(pl.headers.get('last-modified')).toBeNull();
    expect(pl.headers.get('cache-control')).toBe('no-cache, no-store, must-revalidate');
  });
});

describe('health with an engine', () => {
  it('reports the engine state as it changes, with public facts only', async () => {
    const engine = {
      state: 'starting',
      info: { kind: 'openai', family: 'qwen2.5-vl', model: 'qwen2.5-vl-7b', device: 'remote', baseUrl: 'http://u:k3y@10.0.0.9/v1', apiKey: 'k3y' },
    };
    const s = await startTestServer({}, { engine });
    try {
      const health = async () => ((await (await fetch(new URL('/api/health', s.url))).json()) as HealthInfo).engine;
      expect(await health()).toEqual({ state: 'starting', kind: 'openai', family: 'qwen2.5-vl', model: 'qwen2.5-vl-7b', device: 'remote' });
      engine.state = 'restarting';
      expect((await health()).state).toBe('restarting');
      const text = await (await fetch(new URL('/api/health', s.url))).text();
      expect(text).not.toContain('k3y');
    } finally {
      await s.dispose();
    }
  });
});

describe('unexpected failures', () => {
  it('answer an opaque coded 500 and leave the server serving', async () => {
    const engine = {
      get state(): string {
        throw new Error('engine exploded at /home/op/.cache/vigil/models');
      },
    };
    const s = await startTestServer({}, { engine });
    try {
      const r = await fetch(new URL('/api/health', s.url));
      expect(r.status).toBe(500);
      const text = await r.text();
      expect(JSON.parse(text)).toEqual({ error: { status: 500, code: 'INTERNAL', message: 'internal server error' } });
      expect(text).not.toContain('exploded');
      expect((await fetch(new URL('/api/cameras', s.url))).status).toBe(200);
    } finally {
      await s.dispose();
    }
  });
});

describe('start failure', () => {
  it('rejects with EADDRINUSE when the port is taken, and the first server keeps serving', async () => {
    const a = await startTestServer({});
    try {
      const err = await startTestServer({}, { port: a.port }).then(() => null, (e: NodeJS.ErrnoException) => e);
      expect(err?.code).toBe('EADDRINUSE');
      expect((await fetch(new URL('/api/health', a.url))).status).toBe(200);
    } finally {
      await a.dispose();
    }
  });
});

describe('dashboard not built', () => {
  it('says how to build it', async () => {
    const s = await startTestServer({}, { clientDir: '/nonexistent/dist' });
    try {
      const r = await fetch(s.url);
      expect(r.status).toBe(404);
      expect(((await r.json()) as { error: { message: string } }).error.message).toContain('npm run build:client');
    } finally {
      await s.dispose();
    }
  });
});
