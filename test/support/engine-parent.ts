// A main process for the parent-death tests: starts a LocalEngine on the given pair, keeps the worker busy
// with long asks, and prints {"worker": pid, "phase": ...} once the worker is mid-ask. Installs no signal
// handlers: a SIGTERM ends it at once without closing the engine, like a parent that does not wait.
// Usage: node --import tsx engine-parent.ts <model> <mmproj>
import { LocalEngine } from '../../pipelines/engine/local.ts';
import { faultOptions, frame, LONG_ANSWER } from '../engine/helpers.ts';

const [model, mmproj] = process.argv.slice(2);
const engine = new LocalEngine(faultOptions({ model: model!, mmproj: mmproj! }));
await engine.start();
const img = await frame();
const loop = async () => {
  for (;;) await engine.ask({ frames: [img], questions: [LONG_ANSWER] }).catch(() => undefined);
};
void loop();
for (;;) {
  const s = await engine.workerStats();
  if (s && s.phase === 'decoding') {
    process.stdout.write(`${JSON.stringify({ worker: s.pid, phase: s.phase })}\n`);
    break;
  }
  await new Promise((r) => setTimeout(r, 5));
}
