// A Vigil-like process for crash tests: one real CameraSupervisor (testsrc through ffmpeg, 1 s segments) recording
// into the SQLite store of DATA_DIR. Logs JSON lines to stdout; SIGTERM closes the supervisor, then the store.
import { pino } from 'pino';
import { CameraSchema, EngineSchema, HlsSchema, IngestSchema, RecordingSchema } from '../../config/schema.ts';
import { engineGrid } from '../../pipelines/engine/create.ts';
import { CameraSupervisor } from '../../pipelines/ingest/supervisor.ts';
import { openSqliteStore, storeFileIn } from '../../pipelines/store/index.ts';

const dataDir = process.env.DATA_DIR!;
const logger = pino({ level: 'info' });
const store = await openSqliteStore({ file: storeFileIn(dataDir), logger });
const sup = new CameraSupervisor({
  camera: CameraSchema.parse({ id: 'cam', source: 'testsrc', sampleInterval: 1 }),
  ingest: IngestSchema.parse({}),
  hls: HlsSchema.parse({ segmentSeconds: 1, liveSegments: 3 }),
  recording: RecordingSchema.parse({}),
  dataDir,
  logger,
  recordings: store.recordings,
  grid: engineGrid(EngineSchema.parse({})),
});
process.once('SIGTERM', () => {
  void (async () => {
    await sup.close();
    await store.close();
    logger.info('child closed');
    process.exit(0);
  })();
});
sup.start();
