// Launches Debian's Chromium through playwright-core (Playwright's own browsers cannot be fetched here
// and lack H.264), headless with the flags measured in design/streaming.md and a fresh profile.
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

let built: string | null = null;

/**
 * Builds the dashboard with its test hooks (window.__vigil, frame captures) into a private folder, once
 * per test process, and returns that folder for `startTestServer(..., { clientDir })`. client/dist (what
 * `vigil serve` ships) is never touched: a production build has no test hooks.
 */
export function buildDashboard(): string {
  if (built) return built;
  const outDir = mkdtempSync(join(tmpdir(), 'vigil-dashboard-test-'));
  process.once('exit', () => rmSync(outDir, { recursive: true, force: true }));
  buildClient(outDir, { VIGIL_TEST_HOOKS: '1' });
  built = outDir;
  return outDir;
}

/** `vite build` of client/ into `outDir` with extra environment (VIGIL_TEST_HOOKS=1 for a test build). */
export function buildClient(outDir: string, env: Record<string, string> = {}): void {
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'client/vite.config.ts', '--logLevel', 'warn', '--outDir', outDir, '--emptyOutDir'], {
    stdio: 'inherit',
    env: { ...process.env, VIGIL_TEST_HOOKS: '', ...env },
  });
}

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
  close(): Promise<void>;
}

export async function launchBrowser(opts: { viewport?: { width: number; height: number }; args?: string[] } = {}): Promise<TestBrowser> {
  // The dashboard tests need Debian's Chromium (it plays H.264; Playwright's own builds cannot be fetched here and
  // lack it): a missing browser fails them loudly instead of skipping them.
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run \`bash scripts/install-system-deps.sh\``);
  const profile = mkdtempSync(join(tmpdir(), 'vigil-chromium-'));
  // launchPersistentContext is how playwright takes a --user-data-dir of our choosing.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
    viewport: opts.viewport ?? { width: 1280, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(m.location().url ? `${m.text()} [${m.location().url}]` : m.text());
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return {
    context,
    page,
    errors,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export type { Browser, Page };
