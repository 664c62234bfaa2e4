// A Vigil-like process for the event crash test: opens the store in DATA_DIR and writes a burst of events the way
// the rules loop does (several cameras at once: open with evidence, evaluations, updates with a better frame,
// close), printing "OPENED <id>", "UPDATED <id> <bestPdt>" and "CLOSED <id>" once each call has committed.
// The parent kills it with SIGKILL part-way through. Evidence bytes carry their pdt so the parent can check that
// each row's files show the frame the row names.
import { openSqliteStore, storeFileIn } from '../../pipelines/store/index.ts';
import { evaluation, evidence, newEvent } from './events.ts';

const dataDir = process.env.DATA_DIR!;
const base = Number(process.env.BASE_PDT);
const store = await openSqliteStore({ file: storeFileIn(dataDir), dataDir });
const say = (line: string) => process.stdout.write(`${line}\n`);

async function camera(name: string, events: number): Promise<void> {
  for (let i = 0; i < events; i++) {
    const start = base + i * 60_000;
    const e = await store.events.open({ ...newEvent({ camera: name, startPdt: start }), evidence: evidence(String(start), start, 32_768) });
    say(`OPENED ${e.id}`);
    for (let k = 1; k <= 3; k++) {
      const pdt = start + k * 1000;
      await store.events.addEvaluations([{ evaluation: evaluation({ camera: name, pdt }), eventId: e.id }]);
      await store.events.update(e.id, { endPdt: pdt, peak: k, evidence: evidence(String(pdt), pdt, 32_768) });
      say(`UPDATED ${e.id} ${pdt}`);
    }
    await store.events.close(e.id, start + 10_000, 'negatives');
    say(`CLOSED ${e.id}`);
  }
}

await Promise.all(['cam', 'gate', 'yard'].map((c) => camera(c, 1000)));
await store.close();
say('DONE');
