// `vigil serve`: load the config, start ingest + HTTP + sockets, print the dashboard URL, and shut
// down cleanly on SIGINT/SIGTERM (a second signal, or a shutdown that hangs, forces the exit).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, parseCameraFlag } from '../../config/load.ts';
import { startServer, DEFAULT_CLIENT_DIR } from '../app.ts';
import { rootLogger } from '../log.ts';
import { checkFfmpeg } from '../../pipelines/ingest/ffmpeg-version.ts';

export interface ServeOptions {
  config?: string;
  port?: number;
  host?: string;
  data?: string;
  camera?: string[];
}

const FORCE_EXIT_MS = 10_000;

export async function run(opts: ServeOptions): Promise<void> {
  const cameras = (opts.camera ?? []).map(parseCameraFlag);
  const config = loadConfig({
    ...(opts.config ? { file: opts.config } : {}),
    overrides: { port: opts.port, host: opts.host, dataDir: opts.data, cameras },
  });
  // Every camera needs ffmpeg 5.1+: refuse now, with how to fix it, rather than fail each camera forever.
  if (config.cameras.some((c) => c.enabled)) await checkFfmpeg(config.ingest.ffmpegPath);
  mkdirSync(config.server.dataDir, { recursive: true });
  if (!existsSync(join(DEFAULT_CLIENT_DIR, 'index.html'))) {
    console.warn('vigil: the dashboard is not built (client/dist is missing): run `npm run build:client`. The API still works.');
  }
  let server;
  try {
    server = await startServer(config);
  } catch (err) {
    throw explainListenError(err as NodeJS.ErrnoException, config.server.host, config.server.port);
  }
  console.log(`Vigil dashboard: ${server.url}`);

  let signalled = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) {
      console.error(`vigil: ${sig} again, exiting now`);
      process.exit(1);
    }
    signalled = true;
    rootLogger.info({ signal: sig }, 'stopping');
    setTimeout(() => {
      console.error('vigil: shutdown took too long, exiting');
      process.exit(1);
    }, FORCE_EXIT_MS).unref();
    server.close().then(
      () => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        process.exitCode = 0;
      },
      (err: unknown) => {
        rootLogger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function explainListenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  if (err?.code === 'EADDRINUSE') {
    return Object.assign(new Error(`${host}:${port} is already in use`), { code: 'EADDRINUSE', hint: 'pick another port with --port <n> (0 picks a free one) or stop the other process' });
  }
  if (err?.code === 'EADDRNOTAVAIL' || err?.code === 'ENOTFOUND') {
    return Object.assign(new Error(`cannot bind ${host}: no such local address`), { code: err.code, hint: 'use --host 127.0.0.1, or an address of this machine' });
  }
  if (err?.code === 'EACCES') {
    return Object.assign(new Error(`not allowed to bind ${host}:${port}`), { code: 'EACCES', hint: 'ports below 1024 need privileges: use --port 8080' });
  }
  return err;
}
