// Test helpers for the server: a scriptable in-memory camera supervisor, and a server on port 0 with a
// fresh data directory. Integration tests that need real ffmpeg use the real CameraSupervisor instead.
import { EventEmitter } from 'node:events';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../config/load.ts';
import type { VigilConfigInput } from '../../config/schema.ts';
import type { CameraSnapshot, CameraSupervisorEvents, Frame } from '../../pipelines/ingest/types.ts';
import { startServer, type RunningServer, type StartOptions } from '../../server/app.ts';
import type { Supervisor, SupervisorOptions } from '../../server/cameras/manager.ts';

/**
 * A scripted camera supervisor that follows the real one's contract (test/server/camera-contract.test.ts
 * runs the same assertions against both): start() begins run 1 in `connecting` with no playlist yet;
 * `publish()` writes the run's first playlist + segment, turns `live` and emits `run`; frames follow.
 */
export class FakeSupervisor extends EventEmitter<CameraSupervisorEvents> implements Supervisor {
  closed = false;
  private snap: CameraSnapshot;
  private seq = 0;

  constructor(readonly opts: SupervisorOptions) {
    super();
    const c = opts.camera;
    this.snap = {
      id: c.id,
      name: c.name ?? c.id,
      state: 'offline',
      reason: null,
      run: 0,
      lastFramePdt: null,
      framesSampled: 0,
      framesDropped: 0,
      restarts: 0,
      decode: 'all',
      sampleInterval: c.sampleInterval,
    };
  }

  /** The folder startTestServer serves this camera's live HLS from. */
  get hlsDir(): string {
    return join(this.opts.dataDir, 'hls', this.opts.camera.id);
  }

  start(): void {
    this.setState({ run: this.snap.run + 1, state: 'connecting', reason: null });
  }

  /** The run's first segment is listed: write the playlist, go live, announce the run. */
  publish(): void {
    mkdirSync(this.hlsDir, { recursive: true });
    writeFileSync(join(this.hlsDir, `seg-${this.snap.run}-0.ts`), Buffer.alloc(188 * 4, 0x47));
    writeFileSync(
      join(this.hlsDir, 'live.m3u8'),
      `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-PROGRAM-DATE-TIME:${new Date().toISOString()}\n#EXTINF:1.0,\nseg-${this.snap.run}-0.ts\n`,
    );
    this.setState({ state: 'live' });
    this.emit('run', this.snapshot());
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  snapshot(): CameraSnapshot {
    return { ...this.snap };
  }

  stderrTail(): string[] {
    return [];
  }

  setState(patch: Partial<CameraSnapshot>): void {
    this.snap = { ...this.snap, ...patch };
    this.emit('state', this.snapshot());
  }

  /** A sampled frame; `picture` gives a real JPEG and its sizes (the default is 4 placeholder bytes). */
  emitFrame(pdt = Date.now(), picture?: Pick<Frame, 'jpeg' | 'width' | 'height' | 'sourceW' | 'sourceH'>): Frame {
    const frame: Frame = { camera: this.snap.id, run: this.snap.run, seq: this.seq++, pts: this.seq, pdt, jpeg: Buffer.alloc(4), width: 1288, height: 728, sourceW: 1920, sourceH: 1080, ...picture };
    this.snap = { ...this.snap, framesSampled: this.snap.framesSampled + 1, lastFramePdt: pdt };
    this.emit('frame', frame);
    return frame;
  }
}

export interface TestServer extends RunningServer {
  dataDir: string;
  clientDir: string;
  fakes: Map<string, FakeSupervisor>;
  /** Closes the server and removes its temporary folders. */
  dispose(): Promise<void>;
}

/** Starts a server on 127.0.0.1:0 (or `host`). Without `real`, cameras get FakeSupervisors and a stub dashboard. */
export async function startTestServer(
  config: Partial<VigilConfigInput> = {},
  opts: StartOptions & { real?: boolean; port?: number; host?: string; dataDir?: string } = {},
): Promise<TestServer> {
  const root = mkdtempSync(join(tmpdir(), 'vigil-server-'));
  // A given data folder (e.g. a store a test filled first) is the caller's to remove.
  const dataDir = opts.dataDir ?? join(root, 'data');
  let clientDir = opts.clientDir;
  if (!clientDir && !opts.real) {
    clientDir = join(root, 'dist');
    mkdirSync(join(clientDir, 'assets'), { recursive: true });
    writeFileSync(join(clientDir, 'index.html'), '<!doctype html><title>Vigil</title><div id="app"></div>');
    writeFileSync(join(clientDir, 'assets', 'app.js'), 'console.log("vigil")');
  }
  const cfg = validateConfig({ ...config, server: { ...config.server, host: opts.host ?? '127.0.0.1', port: opts.port ?? 0, dataDir } });
  const fakes = new Map<string, FakeSupervisor>();
  const startOpts: StartOptions = { ...opts, ...(clientDir ? { clientDir } : {}) };
  if (!opts.real && !opts.supervisorFactory) {
    startOpts.supervisorFactory = (o) => {
      const f = new FakeSupervisor(o);
      fakes.set(o.camera.id, f);
      return f;
    };
    startOpts.hlsDirOf ??= (d, id) => join(d, 'hls', id);
    startOpts.recordingDirOf ??= (d, id) => join(d, 'recordings', id);
  }
  const server = await startServer(cfg, startOpts);
  return {
    ...server,
    dataDir,
    clientDir: clientDir ?? '',
    fakes,
    async dispose() {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
