// Dashboard live latency: one real testsrc camera (1 s HLS segments) played by the dashboard in Debian's
// Chromium. For every frame on which the overlay drew an exact match, display time minus the frame's
// PDT, and display time minus when Node had that very frame. Printed as medians and as a ratio to the
// segment duration the live playlist lists in the same run (a live HLS player sits about a segment or
// more behind); nothing is asserted. (test/e2e/dashboard.test.ts proves the overlay is on the right frame.)
import { silentLogger } from '../../pipelines/log.ts';
import { buildDashboard, launchBrowser } from '../support/browser.ts';
import { startTestServer } from '../support/server.ts';

const SECONDS = Number(process.env.VIGIL_BENCH_DASHBOARD_SECONDS ?? 15);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Match {
  seq: number;
  run: number;
  displayedPdt: number;
  displayedAt: number;
}

export async function run(): Promise<void> {
  const clientDir = buildDashboard();
  const server = await startTestServer({ cameras: [{ id: 'demo', source: 'testsrc', sampleInterval: 0.5 }] }, { real: true, clientDir, logger: silentLogger });
  const arrived = new Map<string, number>();
  server.cameras.on('frame', (f) => arrived.set(`${f.run}:${f.seq}`, Date.now()));
  const browser = await launchBrowser();
  try {
    const { page } = browser;
    await page.goto(`${server.url}#/camera/demo`);
    await page.waitForFunction(() => (window.__vigil?.overlay?.drawnCount ?? 0) >= 1, null, { timeout: 60_000, polling: 250 });
    await sleep(SECONDS * 1000);
    const matches = (await page.evaluate(() => window.__vigil!.overlay!.matches)) as Match[];
    // Baseline from the same run: the mean segment duration the live playlist lists right now.
    const playlist = await (await fetch(new URL('/hls/demo/live.m3u8', server.url))).text();
    const durations = [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]) * 1000);
    const segmentMs = durations.reduce((a, b) => a + b, 0) / durations.length;
    const vsPdt = matches.map((m) => m.displayedAt - m.displayedPdt);
    const vsNode = matches.flatMap((m) => {
      const at = arrived.get(`${m.run}:${m.seq}`);
      return at === undefined ? [] : [m.displayedAt - at];
    });
    const pdtMedian = median(vsPdt);
    console.log(`dashboard live latency over ${SECONDS} s, ${matches.length} exact overlay matches:`);
    console.log(`  display - PDT:           median ${Math.round(pdtMedian)} ms, max ${Math.round(Math.max(...vsPdt))} ms`);
    console.log(`  display - Node arrival:  median ${Math.round(median(vsNode))} ms, max ${Math.round(Math.max(...vsNode))} ms`);
    console.log(`  median display - PDT / mean segment (${Math.round(segmentMs)} ms): ${(pdtMedian / segmentMs).toFixed(2)}x`);
    if (browser.errors.length) console.log('  page errors:', browser.errors);
  } finally {
    await browser.close();
    await server.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
