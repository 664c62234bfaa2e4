// The Vigil server as one object with an explicit lifecycle: `startServer(config)` resolves when the
// HTTP port is bound and the cameras are starting; `close()` is idempotent and shuts down in reverse
// dependency order: close sockets (socket.io, /api/stream), stop HTTP, close the rules loop (open events
// close), close camera supervisors (ffmpeg children exit), close the vision engine (its worker exits), close
// the store. The engine starts in the background once the port is bound, when any rule (config or stored) is
// enabled: video never waits for a model to load.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { VigilConfig } from '../config/schema.ts';
import { rootLogger, type Logger } from './log.ts';
import { CameraManager, type SupervisorFactory } from './cameras/manager.ts';
import { createHttp, routeUpgrades, type RouteEntry } from './http/server.ts';
import { RequestGuard } from './http/request-guard.ts';
import type { EngineStatusSource } from './http/api.ts';
import { SocketHub } from './hub/socket-hub.ts';
import { EventStream, type StreamOptions } from './hub/stream.ts';
import { openSqliteStore, storeFileIn, type Store } from '../pipelines/store/index.ts';
import type { RecordingIndex } from '../pipelines/ingest/recording-index.ts';
import type { GridOptions } from '../pipelines/grid.ts';
import { engineGrid } from '../pipelines/engine/create.ts';
import { RuleCatalog } from './rules/catalog.ts';
import { VigilMetrics } from './metrics.ts';
import type { VisionEngine } from '../pipelines/engine/types.ts';
import { startEngineWhenNeeded } from './engine/setup.ts';
import type { RuleLoop } from '../pipelines/rules/rule-loop.ts';
import { activeRules, forwardLive, recoverEvents, startRuleLoop } from './rules/loop-wiring.ts';
import { cameraRefs, createNotifier, notifyRouteDeps } from './notify/wiring.ts';
import { startEventRetention } from './rules/event-retention.ts';
import { authEnabled } from '../config/schema.ts';
import { AuthService } from './auth/service.ts';
import { gateRaw } from './auth/gate.ts';
import { readTls } from './auth/tls.ts';
import { Exporter } from './exports/exporter.ts';
import { EventClips } from './exports/event-clips.ts';
import { segmentsBetween } from './vod/segments.ts';

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../..');
export const DEFAULT_CLIENT_DIR = resolve(REPO_ROOT, 'client/dist');

export interface StartOptions {
  /** Builds a camera's supervisor; defaults to pipelines/ingest CameraSupervisor. */
  supervisorFactory?: SupervisorFactory;
  /** Live HLS folder of a camera; defaults to pipelines/ingest/paths.ts cameraHlsDir. */
  hlsDirOf?: (dataDir: string, cameraId: string) => string;
  /** Recorded segments of a camera; defaults to pipelines/ingest/paths.ts cameraRecordingDir. */
  recordingDirOf?: (dataDir: string, cameraId: string) => string;
  /**
   * The vision engine the standing rules ask, not yet started: with it the rules loop runs, and the server
   * starts it in the background when any rule is enabled (engineNeeded) and closes it on the way out.
   * It is the server's from here on.
   */
  visionEngine?: VisionEngine;
  /** What /api/health reports about the engine (default: visionEngine itself). */
  engine?: EngineStatusSource;
  /** Heartbeat and slow-client bound of /api/stream. */
  stream?: StreamOptions;
  clientDir?: string;
  logger?: Logger;
  /**
   * Where the first start with auth on prints the generated admin password, once (default: stdout, never the
   * log: a log is shipped and kept, a terminal is read by the person who started Vigil).
   */
  announce?: (text: string) => void;
}

export interface RunningServer {
  /** Dashboard URL, e.g. http://127.0.0.1:8080/ */
  url: string;
  port: number;
  host: string;
  cameras: CameraManager;
  /** The store (rules, events, recordings) this server writes. */
  store: Store;
  /** The standing-rules loop (null without a vision engine): latest(), test(), setRules(). */
  rules: RuleLoop | null;
  /** Every HTTP route (method, pattern, declared access): what the request guard and the auth gate must cover. */
  routes: readonly RouteEntry[];
  /** Users, sessions, tokens (auth.enabled: whether anyone must log in). */
  auth: AuthService;
  /** The listening HTTP(S) server (tests count requests on it). */
  httpServer: import('node:http').Server;
  close(): Promise<void>;
}

export async function startServer(config: Readonly<VigilConfig>, opts: StartOptions = {}): Promise<RunningServer> {
  const log = (opts.logger ?? rootLogger).child({ component: 'server' });
  const tls = config.server.tls ? readTls(config.server.tls) : undefined;
  const store = await openSqliteStore({ file: storeFileIn(config.server.dataDir), dataDir: config.server.dataDir, logger: log });
  const ingest = await ingestDefaults(opts, store.recordings, engineGrid(config.engine)).catch(async (err: unknown) => {
    await store.close();
    await opts.visionEngine?.close();
    throw err;
  });
  const engine = opts.engine ?? opts.visionEngine;
  const metrics = new VigilMetrics({ cameras: { list: () => cameras.list() }, ...(engine ? { engine } : {}) });
  let boundUrl = `http://${urlHost(config.server.host)}:${config.server.port}/`;
  const notifier = createNotifier(config, store, metrics.registry, () => boundUrl, log);
  notifier.attach(); // events a crash left open close below: their closed messages are queued
  await recoverEvents(store, log).catch(async (err: unknown) => {
    await store.close();
    await opts.visionEngine?.close();
    throw err;
  });
  const cameras = new CameraManager(config, ingest.factory, log);
  // The rule loop, once one runs (it needs an engine); the routes and the catalog read it through this.
  let rules: RuleLoop | null = null;
  let listening = false;
  // The config file's rules are synced into the store at every start, engine or not: the API lists them.
  const ruleCatalog = new RuleCatalog({
    repo: store.rules,
    cameras: () => config.cameras,
    channels: () => config.notify.channels,
    apply: (active) => {
      notifier.setRules(active.map((a) => a.rule), cameraRefs(config));
      // The first rule enabled through the API starts an idle engine (or retries a failed start).
      if (listening && opts.visionEngine) startEngineWhenNeeded(opts.visionEngine, [], active.map((a) => a.rule), log);
      return rules?.setRules(active);
    },
    log,
  });
  await ruleCatalog.provision([...config.rules]).catch(async (err: unknown) => {
    await store.close();
    await opts.visionEngine?.close();
    throw err;
  });
  const auth = new AuthService({ repo: store.auth, enabled: authEnabled(config.server), log: log.child({ component: 'auth' }) });
  const firstPassword = await auth.ensureAdmin();
  if (firstPassword !== null) {
    (opts.announce ?? ((t) => process.stdout.write(t)))(
      `\nVigil created the user "admin" with this password (shown only now; change it with \`vigil users passwd admin\`):\n\n    ${firstPassword}\n\n`,
    );
  }
  const { exporter, clips } = newExporter(store, config.ingest.ffmpegPath, config.server.dataDir, ingest, log);
  await exporter.start();
  await clips.sweep();
  const guard = new RequestGuard({ boundHost: config.server.host, allowedHosts: config.server.allowedHosts, allowedOrigins: config.server.allowedOrigins });
  const { app, routes } = await createHttp({
    cameras,
    guard,
    engine,
    rules: ruleCatalog,
    events: store.events,
    recordings: store.recordings,
    exports: { exporter, rows: store.exports, clips },
    loop: () => rules,
    metrics,
    notify: notifyRouteDeps(store, notifier, config),
    hlsDirOf: (id: string) => ingest.hlsDirOf(config.server.dataDir, id),
    recordingDirOf: (id: string) => ingest.recordingDirOf(config.server.dataDir, id),
    clientDir: opts.clientDir ?? DEFAULT_CLIENT_DIR,
    version: packageVersion(),
    startedAt: Date.now(),
    log,
    auth,
    trustedProxies: config.server.trustedProxies,
    ...(tls ? { tls } : {}),
  });
  const stream = new EventStream(cameras, log, opts.stream);
  // Host/Origin first (a rebinding page learns nothing, not even that a login is needed), then the credentials.
  const gate = async (req: IncomingMessage) => guard.check(req.headers) ?? (await gateRaw(auth, req));
  const hub = new SocketHub(app.server, cameras, log, guard, gate);
  routeUpgrades(app, guard, [stream, hub], gate);
  // Sockets hold their credentials for as long as they are open: re-checked when some end, and every 30 s
  // (a password changed with `vigil users passwd` in another process ends sessions this one is not told of).
  const recheck = () => void Promise.all([hub.revalidate((p) => auth.stillValid(p)), stream.revalidate((p) => auth.stillValid(p))]).catch((err: unknown) => log.error({ err }, 'socket credential re-check failed'));
  const stopRevoked = auth.on('revoked', recheck);
  const recheckTimer = auth.enabled ? setInterval(recheck, 30_000) : null;
  recheckTimer?.unref();

  try {
    rules = opts.visionEngine ? await startRuleLoop(config, store, cameras, opts.visionEngine, log) : null;
    if (rules) {
      forwardLive(rules, [hub, stream]);
      metrics.attach(rules);
    }
    await app.listen({ port: config.server.port, host: config.server.host });
  } catch (err) {
    await rules?.close();
    await notifier.close();
    stopRevoked();
    if (recheckTimer) clearInterval(recheckTimer);
    await hub.close();
    stream.close();
    await app.close();
    await exporter.close();
    await store.close();
    await opts.visionEngine?.close();
    throw err;
  }
  const port = (app.server.address() as AddressInfo).port;
  const url = `${tls ? 'https' : 'http'}://${urlHost(config.server.host)}:${port}/`;
  boundUrl = url;
  notifier.setRules((await activeRules(store).catch(() => [])).map((a) => a.rule), cameraRefs(config));
  await notifier.start(); // delivers what an earlier run left pending; channels connect in the background
  cameras.start();
  log.info({ dashboard: url, cameras: cameras.list().length, auth: auth.enabled }, 'server listening');
  const stopRetention = startEventRetention(store.events, config.events, log);
  if (opts.visionEngine) {
    // The store holds the rules made through the API beside the config file's (synced in by the loop).
    const stored = await store.rules.list().then((list) => list.map((s) => s.rule), () => []);
    startEngineWhenNeeded(opts.visionEngine, config.rules, stored, log);
  }
  listening = true;

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      log.info('shutting down');
      stopRevoked();
      if (recheckTimer) clearInterval(recheckTimer);
      await hub.close();
      stream.close();
      await app.close(); // forceCloseConnections: open requests (a held playlist) are cut
      await rules?.close(); // open events close ('shutdown') while the store is still open
      await notifier.drain(2000); // their closed messages, when the receivers answer at once (else at the next start)
      await notifier.close();
      await cameras.close();
      await exporter.close();
      await stopRetention();
      await opts.visionEngine?.close(); // after the rule loop that asks it, before the store
      await store.close();
      log.info('shut down');
    })());
  return { url, port, host: config.server.host, cameras, store, rules, routes, auth, httpServer: app.server, close };
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

/** Exports and event clips read a segment from the recordings folder, or from the live folder in the moment before it moves there. */
function newExporter(store: Store, ffmpeg: string, dataDir: string, dirs: { hlsDirOf: DirOf; recordingDirOf: DirOf }, log: Logger): { exporter: Exporter; clips: EventClips } {
  const segmentPath = (camera: string, file: string) => {
    const rec = join(dirs.recordingDirOf(dataDir, camera), file);
    return existsSync(rec) ? rec : join(dirs.hlsDirOf(dataDir, camera), file);
  };
  const src = { recordings: store.recordings, hlsDirOf: (id: string) => dirs.hlsDirOf(dataDir, id) };
  const segments = (camera: string, from: number, to: number) => segmentsBetween(src, camera, from, to);
  return {
    exporter: new Exporter({ rows: store.exports, segments, evaluationsBetween: (...a) => store.events.evaluationsBetween(...a), segmentPath, ffmpeg, log: log.child({ component: 'exports' }) }),
    clips: new EventClips({ dir: join(dataDir, 'clips'), segments, segmentPath, ffmpeg }),
  };
}

async function ingestDefaults(opts: StartOptions, recordings: RecordingIndex, grid: GridOptions): Promise<{ factory: SupervisorFactory; hlsDirOf: DirOf; recordingDirOf: DirOf }> {
  if (opts.supervisorFactory && opts.hlsDirOf && opts.recordingDirOf) {
    return { factory: opts.supervisorFactory, hlsDirOf: opts.hlsDirOf, recordingDirOf: opts.recordingDirOf };
  }
  // Loaded on demand so tests with scripted supervisors do not load ingest at all.
  const [{ CameraSupervisor }, paths] = await Promise.all([import('../pipelines/ingest/supervisor.ts'), import('../pipelines/ingest/paths.ts')]);
  return {
    factory: opts.supervisorFactory ?? ((o) => new CameraSupervisor({ ...o, recordings, grid })),
    hlsDirOf: opts.hlsDirOf ?? paths.cameraHlsDir,
    recordingDirOf: opts.recordingDirOf ?? paths.cameraRecordingDir,
  };
}
