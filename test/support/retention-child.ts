// A Vigil-like process for the crash tests: opens the store, builds a RecordingKeeper for one camera and does
// what a supervisor does at a run's start (`restart`: start number, old playlist, sweep everything) or on a tick
// (`sweep` up to KEEP_FROM, `prune` at NOW). With PAUSE_STEP (and PAUSE_SEQ) it prints "PAUSED <step> <seq>" at
// that durable step and waits there for the parent's kill -9. Prints "DONE <json>" when finished.
import { join } from 'node:path';
import { RecordingSchema } from '../../config/schema.ts';
import { readPlaylist } from '../../pipelines/ingest/hls-playlist.ts';
import { RecordingKeeper, type RetentionStep } from '../../pipelines/ingest/retention.ts';
import { openSqliteStore, storeFileIn } from '../../pipelines/store/index.ts';

const env = process.env;
const mode = env.MODE ?? 'restart';
const store = await openSqliteStore({ file: storeFileIn(env.DATA_DIR!) });
const pauseAt = (step: RetentionStep, seq: number) => step === env.PAUSE_STEP && (env.PAUSE_SEQ === undefined || Number(env.PAUSE_SEQ) === seq);
const keeper = new RecordingKeeper({
  camera: 'cam',
  hlsDir: env.HLS_DIR!,
  recordingDir: env.REC_DIR!,
  recording: RecordingSchema.parse(JSON.parse(env.RECORDING ?? '{}')),
  index: store.recordings,
  onStep: async (step, seq) => {
    if (!pauseAt(step, seq)) return;
    process.stdout.write(`PAUSED ${step} ${seq}\n`);
    await new Promise(() => {}); // until kill -9
  },
});

const playlist = await readPlaylist(join(env.HLS_DIR!, 'live.m3u8'));
if (playlist) keeper.observe(playlist, 1, 0);
let result: unknown;
if (mode === 'restart') {
  const startNumber = (await keeper.lastSeq()) + 1;
  const recorded = await keeper.sweep(Infinity);
  result = { startNumber, recorded: recorded.map((r) => r.seq), reconciled: await keeper.reconcile() };
} else if (mode === 'sweep') {
  result = { recorded: (await keeper.sweep(Number(env.KEEP_FROM))).map((r) => r.seq) };
} else if (mode === 'prune') {
  result = { pruned: (await keeper.prune(Number(env.NOW))).map((r) => r.seq) };
} else throw new Error(`unknown MODE ${mode}`);
await keeper.close();
await store.close();
process.stdout.write(`DONE ${JSON.stringify(result)}\n`);
