// `/api/stream`: the same camera and frame events as plain JSON over a websocket (StreamMessage),
// for integrations that do not speak socket.io. `?camera=<id>` limits it to one camera.
// A client that falls behind (large send buffer) skips frame events, never camera state.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import type { StreamMessage } from '../wire.ts';
import { toFrameEvent, type CameraManager } from '../cameras/manager.ts';
import type { Logger } from '../log.ts';
import { sameOrigin } from '../http/origin.ts';

export const STREAM_PATH = '/api/stream';
const SLOW_CLIENT_BYTES = 256 * 1024;

export class EventStream {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly filters = new Map<WebSocket, string | null>();
  private readonly unsubscribe: Array<() => void>;

  constructor(
    private readonly cameras: CameraManager,
    private readonly log: Logger,
  ) {
    this.unsubscribe = [
      cameras.on('camera', (camera) => this.broadcast(camera.id, { type: 'camera', camera }, false)),
      cameras.on('frame', (f) => this.broadcast(f.camera, { type: 'frame', ...toFrameEvent(f) }, true)),
    ];
  }

  /** Handles an HTTP upgrade for STREAM_PATH; answers 404 for an unknown camera filter. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    if (!sameOrigin(req)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n' +
        JSON.stringify({ error: { status: 403, code: 'forbidden', message: 'cross-origin websocket refused' } }));
      return;
    }
    const camera = url.searchParams.get('camera');
    if (camera !== null && !this.cameras.has(camera)) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n' +
        JSON.stringify({ error: { status: 404, code: 'not_found', message: `no camera "${camera}"` } }));
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.filters.set(ws, camera);
      ws.on('close', () => this.filters.delete(ws));
      ws.on('error', (err) => this.log.debug({ err }, 'stream client error'));
      ws.on('message', () => undefined); // nothing to receive; keeps the socket flowing
      const cams = this.cameras.list().filter((c) => camera === null || c.id === camera);
      this.send(ws, { type: 'hello', cameras: cams });
    });
  }

  close(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    for (const ws of this.filters.keys()) ws.close(1001, 'server shutting down');
    // Clients that do not answer the close handshake promptly are cut.
    const stragglers = [...this.filters.keys()];
    setTimeout(() => stragglers.forEach((ws) => ws.terminate()), 500).unref();
    this.wss.close();
  }

  private broadcast(cameraId: string, msg: StreamMessage, volatile: boolean): void {
    let text: string | null = null;
    for (const [ws, filter] of this.filters) {
      if (filter !== null && filter !== cameraId) continue;
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (volatile && ws.bufferedAmount > SLOW_CLIENT_BYTES) continue;
      text ??= JSON.stringify(msg);
      ws.send(text);
    }
  }

  private send(ws: WebSocket, msg: StreamMessage): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }
}
