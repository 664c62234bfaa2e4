// Logging in to the dashboard in Debian's Chromium against a real server (auth on) and a real ffmpeg camera:
// the login form, live video once logged in, and after "Log out" the server serves that browser no more
// segments (counted on the server) and refuses the old session cookie.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildDashboard, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startAuthServer, type AuthServer } from '../support/auth.ts';

const SEGMENT = /^\/hls\/demo\/[^?]+\.(ts|m4s|mp4)(\?|$)/;

describe('login in Chromium', () => {
  let s: AuthServer;
  let browser: TestBrowser;
  const served: { at: number; status: number }[] = [];

  beforeAll(async () => {
    const clientDir = buildDashboard();
    s = await startAuthServer({ cameras: [{ id: 'demo', name: 'Demo', source: 'testsrc' }] }, { real: true, clientDir });
    s.httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (SEGMENT.test(req.url ?? '')) res.once('finish', () => served.push({ at: Date.now(), status: res.statusCode }));
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await s?.dispose();
  });

  it('logs in, watches a camera, logs out; the player then gets no more segments and the old cookie is refused', async () => {
    const { page, context } = browser;
    await page.goto(`${s.url}#/camera/demo`);
    await page.locator('form.login').waitFor({ timeout: 15_000 });
    await page.fill('form.login input[name=user]', 'viewer');
    await page.fill('form.login input[name=password]', 'wrong-password');
    await page.click('form.login button[type=submit]');
    await page.waitForFunction(() => document.querySelector('.login-error')?.textContent?.includes('wrong user name or password'), null, { timeout: 10_000 });
    await page.fill('form.login input[name=password]', 'viewer-pass-12345');
    await page.click('form.login button[type=submit]');

    await page.waitForFunction(() => (window.__vigil?.players[0]?.presentedFrames ?? 0) > 25, null, { timeout: 45_000, polling: 250 });
    expect(await page.locator('.account').textContent()).toContain('viewer (viewer)');
    const watching = served.filter((r) => r.status === 200).length;
    expect(watching).toBeGreaterThan(1);
    const cookie = (await context.cookies()).find((c) => c.name === 'vigil_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });

    await page.click('.account .logout');
    await page.locator('form.login').waitFor({ timeout: 15_000 });
    const loggedOutAt = Date.now();
    await page.waitForTimeout(4000); // four segment durations
    expect(served.filter((r) => r.at > loggedOutAt && r.status === 200)).toEqual([]);
    const old = await fetch(new URL('/hls/demo/live.m3u8', s.url), { headers: { cookie: `vigil_session=${cookie!.value}` } });
    expect(old.status).toBe(401);
    expect(browser.errors.filter((e) => !/401|Unauthorized/.test(e))).toEqual([]);
  }, 90_000);
});
