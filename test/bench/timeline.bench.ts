// The timeline's first page with 10,000 stored events (issue 10: under 200 ms server time): GET /api/events?limit=50
// alone and with the filters the timeline sends (camera, rule, reviewed), plus the unreviewed counts and the day
// picker's days. Each is timed as a loopback round trip (median of repeated requests) against the same request on an
// empty store in the same run; the difference is what the 10,000 rows cost. Nothing is asserted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { silentLogger } from '../../pipelines/log.ts';
import { newEventId, openSqliteStore, storeFileIn } from '../../pipelines/store/index.ts';
import { startTestServer } from '../support/server.ts';

const EVENTS = Number(process.env.VIGIL_BENCH_TIMELINE_EVENTS ?? 10_000);
const REPEAT = 40;
const CAMERAS = ['gate', 'yard', 'dock', 'lobby', 'lot', 'roof', 'hall', 'door'];
const RULES = ['people', 'vehicles', 'helmets', 'smoke'];
const QUERIES = [
  '/api/events?limit=50',
  '/api/events?limit=50&camera=yard',
  '/api/events?limit=50&camera=yard&rule=vehicles',
  '/api/events?limit=50&reviewed=false',
  '/api/events/counts?camera=yard',
  '/api/events/days?tz=Europe/Berlin',
];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;

/** Writes `n` closed events over the last 30 days straight into a migrated database (the sink's files are not needed). */
async function fill(dataDir: string, n: number): Promise<void> {
  await (await openSqliteStore({ file: storeFileIn(dataDir), dataDir })).close();
  const db = new Database(storeFileIn(dataDir));
  const cols = 'id, rule, rule_name, rule_version, camera, severity, state, start_pdt, end_pdt, close_reason, peak, best_pdt, prompt, engine_kind, engine_model, rec_from, rec_to, post_ms, evidence_tag, reviewed, verdict, note, keep, created_at';
  const insert = db.prepare(`INSERT INTO events (${cols}) VALUES (${cols.split(', ').map(() => '?').join(', ')})`);
  const now = Date.now();
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const start = now - Math.floor((i / n) * 30 * 86_400_000);
      const rule = RULES[i % RULES.length]!;
      insert.run(newEventId(start), rule, rule, 1, CAMERAS[i % CAMERAS.length]!, i % 5 ? 'detection' : 'alert', 'closed', start, start + 20_000, 'negatives', 2, start + 5000, 'Find every person. Answer JSON.', 'openai', 'test', start - 5000, start + 25_000, 5000, 'x', i % 3 ? 0 : 1, null, null, 0, start);
    }
  })();
  db.close();
}

async function timeQueries(dataDir: string | undefined): Promise<number[]> {
  const server = await startTestServer({ cameras: CAMERAS.map((id) => ({ id, source: 'testsrc' as const })) }, { logger: silentLogger, ...(dataDir ? { dataDir } : {}) });
  try {
    const out: number[] = [];
    for (const q of QUERIES) {
      const url = new URL(q, server.url);
      for (let i = 0; i < 3; i++) await (await fetch(url)).arrayBuffer(); // warm up: statement cache, JIT
      const times: number[] = [];
      for (let i = 0; i < REPEAT; i++) {
        const t = performance.now();
        const r = await fetch(url);
        await r.arrayBuffer();
        times.push(performance.now() - t);
        if (r.status !== 200) throw new Error(`${q}: ${r.status}`);
      }
      out.push(median(times));
    }
    return out;
  } finally {
    await server.dispose();
  }
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-timeline-'));
  try {
    const t = performance.now();
    await fill(dir, EVENTS);
    console.log(`stored ${EVENTS} events in ${Math.round(performance.now() - t)} ms`);
    const empty = await timeQueries(undefined);
    const full = await timeQueries(dir);
    console.log(`median round trip of ${REPEAT} requests (ms): empty store | ${EVENTS} events | ratio`);
    QUERIES.forEach((q, i) => console.log(`  ${q.padEnd(50)} ${empty[i]!.toFixed(2).padStart(7)} | ${full[i]!.toFixed(2).padStart(7)} | ${(full[i]! / empty[i]!).toFixed(2)}x`));
    console.log(`  target: the first page under 200 ms server time; worst here ${Math.max(...full).toFixed(1)} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
