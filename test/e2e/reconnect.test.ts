// The dashboard's socket provider across a server restart: it shows the outage, reconnects with
// backoff, re-watches its rooms and refetches the cameras (state changed while it was away).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const cameras = [{ id: 'gate', name: 'Gate', source: 'testsrc' }];

describe('dashboard reconnect', () => {
  let browser: TestBrowser;
  let server: TestServer;
  let clientDir: string;
  beforeAll(async () => {
    clientDir = buildDashboard();
    server = await startTestServer({ cameras }, { clientDir });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it('resyncs cameras and rooms after the server comes back', async () => {
    const { page } = browser;
    const badge = page.locator('.tile[data-camera="gate"] .badge');
    await page.goto(server.url);
    await page.locator('#conn', { hasText: 'connected' }).waitFor();
    expect(await badge.textContent()).toBe('connecting');
    expect(browser.errors).toEqual([]);

    const port = server.port;
    await server.dispose();
    await page.locator('#conn', { hasText: 'reconnecting' }).waitFor({ timeout: 5000 });

    // While the page is away the camera went offline: only a resync can tell it.
    server = await startTestServer({ cameras }, { clientDir, port });
    server.fakes.get('gate')!.setState({ state: 'offline', reason: 'changed while away' });
    await page.locator('#conn', { hasText: 'connected' }).waitFor({ timeout: 15_000 });
    await page.locator('.tile[data-camera="gate"] .badge', { hasText: 'offline' }).waitFor({ timeout: 5000 });
    expect(await page.locator('.tile[data-camera="gate"] .reason').textContent()).toBe('changed while away');

    // The room was re-joined: a state change pushed now reaches the page.
    await page.waitForTimeout(300);
    server.fakes.get('gate')!.setState({ state: 'offline', reason: 'pushed to the room' });
    await page.locator('.tile[data-camera="gate"] .reason', { hasText: 'pushed to the room' }).waitFor({ timeout: 5000 });
    const unexpected = browser.errors.filter((e) => !/WebSocket connection to .* failed|ERR_CONNECTION_REFUSED/.test(e));
    expect(unexpected).toEqual([]);
  });
});
