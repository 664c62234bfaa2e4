// socket.io hub for the dashboard: one room per camera. A client `watch`es a camera to join its room
// (the ack carries the camera's current state, so a reconnect resyncs in one round trip); the room
// then gets that camera's state changes, its sampled-frame events (volatile) and its rule results; event changes go
// to every client.
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError } from '@fastify/error';
import { Errors, refuseRequest } from '../http/errors.ts';
import { principalOf } from '../auth/gate.ts';
import type { Principal } from '../auth/service.ts';
import { Server } from 'socket.io';
import type { ClientToServerEvents, DetectionMessage, EventMessage, ServerToClientEvents } from '../wire.ts';
import { toFrameEvent, type CameraManager } from '../cameras/manager.ts';
import type { Logger } from '../log.ts';
import type { RequestGuard } from '../http/request-guard.ts';

export type VigilIo = Server<ClientToServerEvents, ServerToClientEvents>;

const room = (cameraId: string) => `camera:${cameraId}`;

/** Checks a raw request's credentials (server/auth/gate.ts gateRaw): the refusal, or null. */
export type RawGate = (req: IncomingMessage) => Promise<FastifyError | null>;

export class SocketHub {
  readonly io: VigilIo;
  readonly path = '/socket.io/';
  readonly prefix = true;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly upgradeListeners: Function[];

  constructor(
    http: HttpServer,
    private readonly cameras: CameraManager,
    private readonly log: Logger,
    guard: RequestGuard,
    gate: RawGate,
  ) {
    const before = new Set(http.listeners('upgrade'));
    // destroyUpgrade: false leaves other upgrade paths (/api/stream) to their own handler.
    this.io = new Server(http, {
      serveClient: false,
      destroyUpgrade: false,
      cors: { origin: false },
      // Long-polling requests never reach fastify's hooks: the same guard runs here (upgrades already
      // passed it in the server's first upgrade listener). engine.io answers 403 with this message.
      allowRequest: (req, done) => {
        const refused = guard.check(req.headers);
        done(refused ? `${refused.code}: ${refused.message}` : null, !refused);
      },
    });
    // Upgrades reach socket.io only through the server's upgrade router, after the credential check (handle()).
    this.upgradeListeners = http.listeners('upgrade').filter((l) => !before.has(l));
    for (const l of this.upgradeListeners) http.off('upgrade', l as (...a: unknown[]) => void);
    gatePolling(http, gate, log);
    this.io.on('connection', (socket) => {
      socket.emit('cameras', this.cameras.list());
      socket.on('watch', (id, ack) => {
        const cam = typeof id === 'string' ? this.cameras.get(id) : null;
        if (cam) void socket.join(room(cam.id));
        if (typeof ack === 'function') ack(cam);
      });
      socket.on('unwatch', (id) => {
        if (typeof id === 'string') void socket.leave(room(id));
      });
    });
    this.unsubscribe.push(
      cameras.on('camera', (cam) => void this.io.to(room(cam.id)).emit('camera', cam)),
      cameras.on('frame', (f) => void this.io.to(room(f.camera)).volatile.emit('frame', toFrameEvent(f))),
    );
  }

  /** An upgrade the request guard and the credential check passed. */
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    for (const l of this.upgradeListeners) l.call(null, req, socket, head);
  }

  /** Drops every client whose session or token has ended (a logout, a password change, a revoked token). */
  async revalidate(stillValid: (p: Principal) => Promise<boolean>): Promise<void> {
    for (const socket of this.io.sockets.sockets.values()) {
      const p = principalOf(socket.request);
      if (p && !(await stillValid(p))) {
        this.log.info({ user: p.name }, 'socket.io client dropped: its credentials ended');
        socket.disconnect(true);
      }
    }
  }

  /**
   * Every rule evaluation on a camera, to its room. Not volatile: every rule of a camera answers the same frame at
   * once, and socket.io drops a volatile message whenever the transport is still writing the previous one, so all
   * but the first rule of each burst vanished (test/e2e/dashboard-rules.test.ts caught it).
   */
  detections(d: DetectionMessage): void {
    this.io.to(room(d.camera)).emit('detections', d);
  }

  /**
   * An event opened, updated or closed, to EVERY dashboard (never skipped): the open-alerts list and the title badge
   * cover all cameras, while a page watches only the rooms of the cameras it shows. Events are rare and small.
   */
  event(m: EventMessage, _camera: string): void {
    this.io.emit('event', m);
  }

  /** Drops every client connection; the HTTP server itself is closed by its owner. */
  async close(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    // Close transports rather than disconnect sockets: clients then see the server going away
    // ("transport close") and reconnect; a socket.io-level disconnect would tell them to stay away.
    this.io.engine.close();
    this.log.debug('socket.io hub closed');
  }
}

/**
 * engine.io answers its long-polling requests before fastify sees them (it wraps the server's request
 * listeners): put the credential check in front, on every poll, so an ended session stops at its next poll.
 */
function gatePolling(http: HttpServer, gate: RawGate, log: Logger): void {
  const inner = http.listeners('request');
  http.removeAllListeners('request');
  const pass = (req: IncomingMessage, res: unknown) => inner.forEach((l) => l.call(http, req, res));
  http.on('request', (req, res) => {
    if (!req.url?.startsWith('/socket.io/')) return pass(req, res);
    gate(req).then(
      (denied) => (denied ? refuseRequest(res, denied) : pass(req, res)),
      (err: unknown) => {
        log.error({ err }, 'socket.io credential check failed');
        refuseRequest(res, Errors.INTERNAL());
      },
    );
  });
}
