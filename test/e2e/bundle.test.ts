// The production dashboard bundle carries no test hooks: no window.__vigil, no frame capture to PNG.
// The test build (what the browser tests load) has them, which shows the grep would catch a leak.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildClient } from '../support/browser.ts';

/** Every built JavaScript file (source maps excluded: they quote the sources, dead branches included). */
function bundleText(dir: string): string {
  const files = readdirSync(join(dir, 'assets')).filter((f) => f.endsWith('.js'));
  expect(files.length).toBeGreaterThan(0);
  return files.map((f) => readFileSync(join(dir, 'assets', f), 'utf8')).join('\n') + readFileSync(join(dir, 'index.html'), 'utf8');
}

describe('dashboard bundle', () => {
  it('leaves the test hooks out of the production build and in the test build', () => {
    const prod = mkdtempSync(join(tmpdir(), 'vigil-bundle-prod-'));
    const test = mkdtempSync(join(tmpdir(), 'vigil-bundle-test-'));
    try {
      buildClient(prod);
      buildClient(test, { VIGIL_TEST_HOOKS: '1' });
      const p = bundleText(prod);
      const t = bundleText(test);
      for (const hook of ['__vigil', 'toDataURL', 'image/png', '__VIGIL_TEST_HOOKS__']) expect(p, hook).not.toContain(hook);
      expect(t).toContain('__vigil');
      expect(t).toContain('toDataURL');
      // The production bundle is the real dashboard, not an empty shell.
      expect(p).toContain('requestVideoFrameCallback');
    } finally {
      rmSync(prod, { recursive: true, force: true });
      rmSync(test, { recursive: true, force: true });
    }
  }, 60_000);
});
