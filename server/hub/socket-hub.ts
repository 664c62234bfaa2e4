// socket.io hub for the dashboard: one room per camera. A client `watch`es a camera to join its room
// (the ack carries the camera's current state, so a reconnect resyncs in one round trip); the room
// then gets that camera's state changes, its sampled-frame events (volatile) and its rule results; event changes go
// to every client.
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { ClientToServerEvents, DetectionMessage, EventMessage, ServerToClientEvents } from '../wire.ts';
import { toFrameEvent, type CameraManager } from '../cameras/manager.ts';
import type { Logger } from '../log.ts';
import type { RequestGuard } from '../http/request-guard.ts';

export type VigilIo = Server<ClientToServerEvents, ServerToClientEvents>;

const room = (cameraId: string) => `camera:${cameraId}`;

export class SocketHub {
  readonly io: VigilIo;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    http: HttpServer,
    private readonly cameras: CameraManager,
    private readonly log: Logger,
    guard: RequestGuard,
  ) {
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
