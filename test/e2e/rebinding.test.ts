// DNS rebinding and cross-site pages in a real browser. Chromium resolves two made-up names to
// 127.0.0.1 (--host-resolver-rules), as a rebinding attacker's DNS would: a page loaded as
// http://rebind.test:<vigil port>/ is "same origin" with Vigil to the browser, and a page on
// http://evil.test:<other port>/ is any site the operator happens to visit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describe('DNS rebinding and cross-site pages (Chromium)', () => {
  let vigil: TestServer;
  let evil: Server;
  let evilPort: number;
  let browser: TestBrowser;

  beforeAll(async () => {
    vigil = await startTestServer({ cameras: [{ id: 'front', source: 'rtsp://u:s3cret@127.0.0.1:1/x' }] });
    // The attacker's page: tries to read the API and open both websockets on 127.0.0.1.
    evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><script>
        const base = 'http://127.0.0.1:${vigil.port}';
        const ws = (path) => new Promise((done) => {
          const s = new WebSocket(base.replace('http', 'ws') + path);
          s.onopen = () => done('open');
          s.onerror = () => done('refused');
        });
        window.result = Promise.all([
          fetch(base + '/api/cameras').then((r) => r.status, () => 'unreadable'),
          ws('/api/stream'),
          ws('/socket.io/?EIO=4&transport=websocket'),
        ]);
      </script>`);
    });
    await new Promise<void>((done) => evil.listen(0, '127.0.0.1', done));
    evilPort = (evil.address() as AddressInfo).port;
    browser = await launchBrowser({ args: ['--host-resolver-rules=MAP rebind.test 127.0.0.1, MAP evil.test 127.0.0.1'] });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => evil?.close(done));
    await vigil?.dispose();
  });

  it('a rebound name gets 403 FOREIGN_HOST for the dashboard, the API and the video', async () => {
    const { page } = browser;
    for (const path of ['/', '/api/cameras', '/hls/front/live.m3u8']) {
      const res = await page.goto(`http://rebind.test:${vigil.port}${path}`);
      expect(res?.status(), path).toBe(403);
      expect(JSON.parse(await res!.text()).error.code, path).toBe('FOREIGN_HOST');
    }
    // The same browser reaching Vigil by its loopback address gets the dashboard.
    expect((await page.goto(vigil.url))?.status()).toBe(200);
  });

  it('a page on another site can neither read the API nor open a websocket', async () => {
    const { page } = browser;
    await page.goto(`http://evil.test:${evilPort}/`);
    const [api, stream, sio] = (await page.evaluate(() => (window as unknown as { result: Promise<unknown[]> }).result)) as [unknown, string, string];
    expect(api).toBe('unreadable'); // refused with 403 and no CORS grant: the page learns nothing
    expect(stream).toBe('refused');
    expect(sio).toBe('refused');
  });
});
