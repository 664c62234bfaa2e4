// An event left open by a process that died (no shutdown) is closed when the server starts again, with the
// reason 'recovered-after-crash', whether or not a vision engine is configured.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load.ts';
import { RuleSchema } from '../../config/rule.ts';
import { openSqliteStore, storeFileIn } from '../../pipelines/store/index.ts';
import { startServer, type RunningServer } from '../../server/app.ts';
import { FakeSupervisor } from '../support/server.ts';

let root = '';
let server: RunningServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('events left open by a crash', () => {
  it('are closed at the next start with recovered-after-crash', async () => {
    root = mkdtempSync(join(tmpdir(), 'vigil-recovery-'));
    const dataDir = join(root, 'data');
    mkdirSync(dataDir, { recursive: true });
    const jpeg = await sharp({ create: { width: 64, height: 36, channels: 3, background: '#404040' } }).jpeg().toBuffer();
    const before = await openSqliteStore({ file: storeFileIn(dataDir), dataDir });
    const opened = await before.events.open({
      rule: { rule: RuleSchema.parse({ id: 'red', kind: 'detect', question: 'red square' }), version: 1 },
      camera: 'cam',
      startPdt: 1_750_000_000_000,
      prompt: 'p',
      engine: { kind: 'openai', model: 'm' },
      peak: 1,
      evidence: { pdt: 1_750_000_000_000, snapshot: jpeg, annotated: jpeg, thumbnail: jpeg },
      evaluations: [],
    });
    await before.close(); // the process "died" with the event open
    const clientDir = join(root, 'dist');
    mkdirSync(clientDir);
    writeFileSync(join(clientDir, 'index.html'), '<!doctype html>');
    server = await startServer(validateConfig({ server: { host: '127.0.0.1', port: 0, dataDir } }), {
      supervisorFactory: (o) => new FakeSupervisor(o),
      hlsDirOf: (d, id) => join(d, 'hls', id),
      recordingDirOf: (d, id) => join(d, 'recordings', id),
      clientDir,
    });
    const after = await server.store.events.get(opened.id);
    expect(after).toMatchObject({ state: 'closed', closeReason: 'recovered-after-crash' });
  });
});
