// The Vigil server as one object with an explicit lifecycle: `startServer(config)` resolves when the
// HTTP port is bound and the cameras are starting; `close()` is idempotent and shuts down in reverse
// dependency order: stop accepting, close sockets, close camera supervisors (ffmpeg children exit), close the store.
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import type { VigilConfig } from '../config/schema.ts';
import { rootLogger, type Logger } from './log.ts';
import { CameraManager, type SupervisorFactory } from './cameras/manager.ts';
import { buildRouter, checkPath, createHandler } from './http/routes.ts';
import { SocketHub } from './hub/socket-hub.ts';
import { EventStream, STREAM_PATH } from './hub/stream.ts';
import { openSqliteStore, storeFileIn } from '../pipelines/store/index.ts';
import type { RecordingIndex } from '../pipelines/ingest/recording-index.ts';

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../..');
export const DEFAULT_CLIENT_DIR = resolve(REPO_ROOT, 'client/dist');

export interface StartOptions {
  /** Builds a camera's supervisor; defaults to pipelines/ingest CameraSupervisor. */
  supervisorFactory?: SupervisorFactory;
  /** Live HLS folder of a camera; defaults to pipelines/ingest/paths.ts cameraHlsDir. */
  hlsDirOf?: (dataDir: string, cameraId: string) => string;
  /** Recorded segments of a camera; defaults to pipelines/ingest/paths.ts cameraRecordingDir. */
  recordingDirOf?: (dataDir: string, cameraId: string) => string;
  clientDir?: string;
  logger?: Logger;
}

export interface RunningServer {
  /** Dashboard URL, e.g. http://127.0.0.1:8080/ */
  url: string;
  port: number;
  host: string;
  cameras: CameraManager;
  close(): Promise<void>;
}

export async function startServer(config: Readonly<VigilConfig>, opts: StartOptions = {}): Promise<RunningServer> {
  const log = (opts.logger ?? rootLogger).child({ component: 'server' });
  const store = await openSqliteStore({ file: storeFileIn(config.server.dataDir), logger: log });
  const ingest = await ingestDefaults(opts, store.recordings).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  const cameras = new CameraManager(config, ingest.factory, log);
  const deps = {
    cameras,
    hlsDirOf: (id: string) => ingest.hlsDirOf(config.server.dataDir, id),
    recordingDirOf: (id: string) => ingest.recordingDirOf(config.server.dataDir, id),
    clientDir: opts.clientDir ?? DEFAULT_CLIENT_DIR,
    version: packageVersion(),
    startedAt: Date.now(),
    log,
  };
  const http = createServer(createHandler(buildRouter(deps), deps));
  http.keepAliveTimeout = 5_000;
  const sockets = new Set<Socket>();
  http.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const hub = new SocketHub(http, cameras, log);
  const stream = new EventStream(cameras, log);
  http.on('upgrade', (req, socket, head) => {
    const target = req.url ?? '/';
    if (target.startsWith('/socket.io/')) return; // socket.io's own upgrade listener takes it
    try {
      const url = new URL(checkPath(target) + (target.includes('?') ? target.slice(target.indexOf('?')) : ''), 'http://localhost');
      if (url.pathname === STREAM_PATH) return stream.handleUpgrade(req, socket, head, url);
    } catch {
      /* fall through to 404 */
    }
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });

  await listen(http, config.server.port, config.server.host).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  const port = (http.address() as AddressInfo).port;
  const url = `http://${urlHost(config.server.host)}:${port}/`;
  cameras.start();
  log.info({ dashboard: url, cameras: cameras.list().length }, 'server listening');

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      log.info('shutting down');
      const httpClosed = new Promise<void>((done) => http.close(() => done()));
      await hub.close();
      stream.close();
      http.closeIdleConnections();
      for (const s of sockets) s.destroy();
      await httpClosed;
      await cameras.close();
      await store.close();
      log.info('shut down');
    })());
  return { url, port, host: config.server.host, cameras, close };
}

function listen(http: Server, port: number, host: string): Promise<void> {
  return new Promise((done, fail) => {
    http.once('error', fail);
    http.listen(port, host, () => {
      http.off('error', fail);
      done();
    });
  });
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(resolve(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

type DirOf = (dataDir: string, id: string) => string;

async function ingestDefaults(opts: StartOptions, recordings: RecordingIndex): Promise<{ factory: SupervisorFactory; hlsDirOf: DirOf; recordingDirOf: DirOf }> {
  if (opts.supervisorFactory && opts.hlsDirOf && opts.recordingDirOf) {
    return { factory: opts.supervisorFactory, hlsDirOf: opts.hlsDirOf, recordingDirOf: opts.recordingDirOf };
  }
  // Loaded on demand so tests with scripted supervisors do not load ingest at all.
  const [{ CameraSupervisor }, paths] = await Promise.all([import('../pipelines/ingest/supervisor.ts'), import('../pipelines/ingest/paths.ts')]);
  return {
    factory: opts.supervisorFactory ?? ((o) => new CameraSupervisor({ ...o, recordings })),
    hlsDirOf: opts.hlsDirOf ?? paths.cameraHlsDir,
    recordingDirOf: opts.recordingDirOf ?? paths.cameraRecordingDir,
  };
}
