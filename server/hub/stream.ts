// `/api/stream`: the same camera and frame events as plain JSON over a websocket (StreamMessage),
// for integrations that do not speak socket.io. `?camera=<id>` limits it to one camera.
// - Liveness: the server pings every `heartbeatMs`; a client that has not answered the previous ping
//   is terminated (a peer that vanished without a FIN would otherwise be written to forever).
// - Slow clients: no message is written while a client's send buffer is above `slowClientBytes`.
//   Frame events are then skipped (the next one supersedes them); camera states are held back, the
//   latest per camera, and sent once the buffer drains: memory per client stays bounded and the
//   client still ends up with every camera's current state.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import type { CameraInfo, DetectionMessage, EventMessage, StreamMessage } from '../wire.ts';
import { toFrameEvent, type CameraManager } from '../cameras/manager.ts';
import type { Logger } from '../log.ts';
import { Errors, refuseUpgrade } from '../http/errors.ts';
import { principalOf } from '../auth/gate.ts';
import type { Principal } from '../auth/service.ts';

export const STREAM_PATH = '/api/stream';

export interface StreamOptions {
  /** Ping interval; a client missing one ping is dropped (default 15 s). */
  heartbeatMs?: number;
  /** Send-buffer bound above which nothing more is written to a client (default 256 KiB). */
  slowClientBytes?: number;
}

interface Client {
  filter: string | null;
  /** Who opened it (null with auth off): re-checked when credentials end. */
  principal: Principal | null;
  alive: boolean;
  /** Latest camera state per camera not yet written because the client was behind. */
  pending: Map<string, CameraInfo>;
  /** Retries the held-back states while the client drains its buffer. */
  retry: NodeJS.Timeout | null;
}

const RETRY_MS = 200;

export class EventStream {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly clients = new Map<WebSocket, Client>();
  private readonly unsubscribe: Array<() => void>;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly slowBytes: number;

  constructor(
    private readonly cameras: CameraManager,
    private readonly log: Logger,
    opts: StreamOptions = {},
  ) {
    this.slowBytes = opts.slowClientBytes ?? 256 * 1024;
    this.unsubscribe = [
      cameras.on('camera', (camera) => this.broadcastState(camera)),
      cameras.on('frame', (f) => this.broadcastFrame(f.camera, { type: 'frame', ...toFrameEvent(f) })),
    ];
    this.heartbeat = setInterval(() => this.beat(), opts.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  readonly path = STREAM_PATH;

  /** Handles an upgrade the request guard already passed; an unknown camera filter is a 404. */
  handle(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    const camera = url.searchParams.get('camera');
    if (camera !== null && !this.cameras.has(camera)) return refuseUpgrade(socket, Errors.NOT_FOUND(`no camera "${camera}"`));
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const client: Client = { filter: camera, principal: principalOf(req), alive: true, pending: new Map(), retry: null };
      this.clients.set(ws, client);
      ws.on('close', () => {
        if (client.retry) clearTimeout(client.retry);
        this.clients.delete(ws);
      });
      ws.on('error', (err) => this.log.debug({ err }, 'stream client error'));
      ws.on('pong', () => (client.alive = true));
      ws.on('message', () => undefined); // nothing to receive; keeps the socket flowing
      const cams = this.cameras.list().filter((c) => camera === null || c.id === camera);
      ws.send(JSON.stringify({ type: 'hello', cameras: cams } satisfies StreamMessage));
    });
  }

  /** Closes every client whose session or token has ended (1008 policy violation). */
  async revalidate(stillValid: (p: Principal) => Promise<boolean>): Promise<void> {
    for (const [ws, c] of this.clients) {
      if (c.principal && !(await stillValid(c.principal))) ws.close(1008, 'credentials ended: log in again');
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const u of this.unsubscribe.splice(0)) u();
    for (const c of this.clients.values()) if (c.retry) clearTimeout(c.retry);
    for (const ws of this.clients.keys()) ws.close(1001, 'server shutting down');
    // Clients that do not answer the close handshake promptly are cut.
    const stragglers = [...this.clients.keys()];
    setTimeout(() => stragglers.forEach((ws) => ws.terminate()), 500).unref();
    this.wss.close();
  }

  /** A rule evaluation: skipped for a client that is behind, like frame events. */
  detections(d: DetectionMessage): void {
    this.broadcastFrame(d.camera, { type: 'detections', ...d });
  }

  /** An event change: small and rare, written even to a client that is behind (it must not miss an open or a close). */
  event(m: EventMessage, camera: string): void {
    let text: string | null = null;
    for (const [ws, c] of this.clients) if (this.wants(ws, c, camera)) ws.send((text ??= JSON.stringify(m satisfies StreamMessage)));
  }

  private beat(): void {
    for (const [ws, c] of this.clients) {
      if (!c.alive) {
        this.log.debug('stream client missed a ping: dropped');
        ws.terminate();
        continue;
      }
      c.alive = false;
      ws.ping();
      this.flush(ws, c);
    }
  }

  private broadcastFrame(cameraId: string, msg: StreamMessage): void {
    let text: string | null = null;
    for (const [ws, c] of this.clients) {
      if (!this.wants(ws, c, cameraId)) continue;
      this.flush(ws, c);
      if (this.behind(ws)) continue;
      ws.send((text ??= JSON.stringify(msg)));
    }
  }

  private broadcastState(camera: CameraInfo): void {
    for (const [ws, c] of this.clients) {
      if (!this.wants(ws, c, camera.id)) continue;
      c.pending.set(camera.id, camera);
      this.flush(ws, c);
    }
  }

  /** Writes held-back camera states while the client keeps up. */
  private flush(ws: WebSocket, c: Client): void {
    for (const [id, camera] of c.pending) {
      if (this.behind(ws)) {
        c.retry ??= setTimeout(() => {
          c.retry = null;
          if (ws.readyState === WebSocket.OPEN) this.flush(ws, c);
        }, RETRY_MS);
        return;
      }
      c.pending.delete(id);
      ws.send(JSON.stringify({ type: 'camera', camera } satisfies StreamMessage));
    }
  }

  private wants(ws: WebSocket, c: Client, cameraId: string): boolean {
    return ws.readyState === WebSocket.OPEN && (c.filter === null || c.filter === cameraId);
  }

  private behind(ws: WebSocket): boolean {
    return ws.bufferedAmount > this.slowBytes;
  }
}
