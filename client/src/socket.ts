// The one socket provider: a socket.io connection with capped exponential reconnect. On every
// (re)connect it re-watches the rooms in use and refetches the camera list, so nothing missed while
// disconnected stays stale.
import { io, type Socket } from 'socket.io-client';
import type { CameraInfo, ClientToServerEvents, DetectionMessage, EventMessage, FrameEvent, ServerToClientEvents } from '../../server/wire.ts';

type Listener<T> = (v: T) => void;
export type ConnState = 'connecting' | 'connected' | 'reconnecting';

export class SocketProvider {
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private readonly watched = new Map<string, number>();
  private readonly cameraListeners = new Set<Listener<CameraInfo>>();
  private readonly listListeners = new Set<Listener<CameraInfo[]>>();
  private readonly frameListeners = new Set<Listener<FrameEvent>>();
  private readonly detectionListeners = new Set<Listener<DetectionMessage>>();
  private readonly eventListeners = new Set<Listener<EventMessage>>();
  private readonly resyncListeners = new Set<Listener<void>>();
  private readonly connListeners = new Set<Listener<ConnState>>();
  state: ConnState = 'connecting';

  constructor() {
    this.socket = io({
      transports: ['websocket'],
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 8000,
      randomizationFactor: 0.5,
    });
    this.socket.on('connect', () => this.resync());
    this.socket.on('disconnect', (reason) => {
      this.setState('reconnecting');
      // socket.io does not retry after a server-side disconnect; a restarting server should not
      // strand the dashboard, so retry that too (the manager's backoff applies from here).
      if (reason === 'io server disconnect') setTimeout(() => this.socket.connect(), 1000);
    });
    this.socket.io.on('reconnect_attempt', () => this.setState('reconnecting'));
    this.socket.on('cameras', (cams) => this.listListeners.forEach((l) => l(cams)));
    this.socket.on('camera', (cam) => this.cameraListeners.forEach((l) => l(cam)));
    this.socket.on('frame', (f) => this.frameListeners.forEach((l) => l(f)));
    this.socket.on('detections', (d) => this.detectionListeners.forEach((l) => l(d)));
    this.socket.on('event', (m) => this.eventListeners.forEach((l) => l(m)));
  }

  onCameras(l: Listener<CameraInfo[]>): () => void {
    this.listListeners.add(l);
    return () => this.listListeners.delete(l);
  }

  onCamera(l: Listener<CameraInfo>): () => void {
    this.cameraListeners.add(l);
    return () => this.cameraListeners.delete(l);
  }

  onFrame(l: Listener<FrameEvent>): () => void {
    this.frameListeners.add(l);
    return () => this.frameListeners.delete(l);
  }

  /** Every rule result of the watched cameras. */
  onDetections(l: Listener<DetectionMessage>): () => void {
    this.detectionListeners.add(l);
    return () => this.detectionListeners.delete(l);
  }

  /** Event changes (opened, updated, closed) of every camera. */
  onEvent(l: Listener<EventMessage>): () => void {
    this.eventListeners.add(l);
    return () => this.eventListeners.delete(l);
  }

  /** Each (re)connect: state that may have been missed while disconnected should be fetched again. */
  onResync(l: Listener<void>): () => void {
    this.resyncListeners.add(l);
    return () => this.resyncListeners.delete(l);
  }

  onConnection(l: Listener<ConnState>): () => void {
    this.connListeners.add(l);
    l(this.state);
    return () => this.connListeners.delete(l);
  }

  /** Joins a camera's room (reference counted); the returned function leaves it. */
  watch(id: string): () => void {
    const n = this.watched.get(id) ?? 0;
    this.watched.set(id, n + 1);
    if (n === 0 && this.socket.connected) this.join(id);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const m = (this.watched.get(id) ?? 1) - 1;
      if (m > 0) return void this.watched.set(id, m);
      this.watched.delete(id);
      if (this.socket.connected) this.socket.emit('unwatch', id);
    };
  }

  private join(id: string): void {
    this.socket.emit('watch', id, (cam) => {
      if (cam) this.cameraListeners.forEach((l) => l(cam));
    });
  }

  private async resync(): Promise<void> {
    this.setState('connected');
    for (const id of this.watched.keys()) this.join(id);
    this.resyncListeners.forEach((l) => l());
    try {
      const res = await fetch('/api/cameras', { cache: 'no-store' });
      if (res.ok) {
        const cams = (await res.json()) as CameraInfo[];
        this.listListeners.forEach((l) => l(cams));
      }
    } catch {
      /* the socket's own 'cameras' message covers it */
    }
  }

  private setState(s: ConnState): void {
    if (s === this.state) return;
    this.state = s;
    this.connListeners.forEach((l) => l(s));
  }
}
