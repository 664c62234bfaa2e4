// `vigil serve`: load the config, lock the data folder (one Vigil per folder) and end what a crashed Vigil left
// running there, start ingest + HTTP + sockets (and, in the background, the vision engine when a rule is
// enabled, pulling the default model on first use), print the dashboard URL, and shut down cleanly on SIGINT/SIGTERM,
// or when npm that launched it is gone (npx does not forward SIGTERM). A second signal, or a shutdown that hangs,
// forces the exit.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, parseCameraFlag } from '../../config/load.ts';
import { startServer, DEFAULT_CLIENT_DIR } from '../app.ts';
import { rootLogger } from '../log.ts';
import { acquireDataLock } from '../lifecycle/data-lock.ts';
import { endLeftovers } from '../lifecycle/leftovers.ts';
import { launchedByNpm, watchLauncher } from '../lifecycle/parent-watch.ts';
import { checkFfmpeg } from '../../pipelines/ingest/ffmpeg-version.ts';
import { createServerEngine } from '../engine/setup.ts';

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
  const lock = acquireDataLock(config.server.dataDir);
  if (lock.tookOverFrom) rootLogger.warn({ pid: lock.tookOverFrom.pid, since: lock.tookOverFrom.since }, 'took over the data folder lock of a Vigil that is gone (crashed or killed)');
  const ended = await endLeftovers(config.server.dataDir);
  if (ended.length) rootLogger.warn({ pids: ended }, `ended ${ended.length} ffmpeg process(es) an earlier Vigil left running in the data folder`);
  if (!existsSync(join(DEFAULT_CLIENT_DIR, 'index.html'))) {
    console.warn('vigil: the dashboard is not built (client/dist is missing): run `npm run build:client`. The API still works.');
  }
  let server;
  try {
    const vision = await createServerEngine(config.engine, {
      log: rootLogger.child({ component: 'engine' }),
      bar: Boolean(process.stderr.isTTY),
      print: (line) => console.error(line),
    });
    server = await startServer(config, { visionEngine: vision.engine, engine: vision.status });
  } catch (err) {
    lock.release();
    throw explainListenError(err as NodeJS.ErrnoException, config.server.host, config.server.port);
  }
  console.log(`Vigil dashboard: ${server.url}`);

  // A closed stdout/stderr (the terminal or pipe went away with the launcher) must not crash the shutdown.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  let signalled = false;
  let stopWatching = () => {};
  const onSignal = (sig: NodeJS.Signals | 'launcher gone', why?: string) => {
    if (signalled) {
      console.error(`vigil: ${sig} again, exiting now`);
      process.exit(1);
    }
    signalled = true;
    stopWatching();
    rootLogger.info({ signal: sig, ...(why ? { why } : {}) }, 'stopping');
    setTimeout(() => {
      console.error('vigil: shutdown took too long, exiting');
      process.exit(1);
    }, FORCE_EXIT_MS).unref();
    server.close().then(
      () => {
        lock.release();
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
  if (launchedByNpm()) stopWatching = watchLauncher((why) => onSignal('launcher gone', why));
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
