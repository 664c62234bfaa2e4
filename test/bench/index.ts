// `npm run bench`: runs every test/bench/*.bench.ts in turn (or only those whose name contains argv[2]).
// Each bench measures its own baseline in the same run and prints ratios, never absolute pass/fail timings.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2] ?? '';
const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts') && f.includes(filter)).sort();
let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f}`);
  try {
    const mod = (await import(pathToFileURL(join(here, f)).href)) as { run?: () => Promise<void> };
    if (typeof mod.run !== 'function') throw new Error(`${f} exports no run()`);
    await mod.run();
  } catch (err) {
    failed++;
    console.error(`${f} failed:`, err);
  }
}
process.exitCode = failed ? 1 : 0;
