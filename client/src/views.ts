// Views: the camera grid (#/) and one camera (#/camera/<id>). Each view owns its players and room
// subscriptions and releases them when the route changes.
import type { CameraInfo } from '../../server/wire.ts';
import type { AlertStore } from './alerts.ts';
import { CameraPlayer, type PlayerSources } from './player.ts';
import type { SocketProvider } from './socket.ts';

/** What views share: the socket, the overlay's sources, the open events. */
export interface ViewDeps {
  socket: SocketProvider;
  sources: PlayerSources;
  alerts: AlertStore;
}

export interface View {
  update(cams: CameraInfo[]): void;
  camera(cam: CameraInfo): void;
  players(): CameraPlayer[];
  destroy(): void;
}

function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text?: string): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  el.className = cls;
  if (text !== undefined) el.textContent = text;
  return el;
}

function badge(cam: CameraInfo): HTMLSpanElement {
  const b = h('span', 'badge');
  b.dataset.state = cam.state;
  b.textContent = cam.state;
  if (cam.reason) b.title = cam.reason;
  return b;
}

/** A "transcoded" mark for cameras whose video is re-encoded here (H.265, MJPEG, ...); the reason says why and the cost. */
function transcodedMark(cam: CameraInfo): HTMLSpanElement | null {
  if (cam.video?.mode !== 'transcode') return null;
  // A tag, not a state badge: the state stays the one `.badge` of the tile.
  const b = h('span', 'tag transcoded', cam.video.codec === null ? 'encoded' : 'transcoded');
  b.title = cam.video.reason ?? 'transcoded to H.264';
  return b;
}

/** The tile's open-events badge: how many, red when one of them is an alert. */
function alertBadge(alerts: AlertStore, camera: string): HTMLSpanElement | null {
  const open = alerts.list(camera).length;
  if (open === 0) return null;
  const n = alerts.alertCount(camera);
  const b = h('span', 'alert-badge', n > 0 ? `${n} alert${n > 1 ? 's' : ''}` : `${open} open`);
  b.dataset.severity = n > 0 ? 'alert' : 'detection';
  b.title = alerts.list(camera).map((e) => e.ruleName).join(', ');
  return b;
}

function videoLine(cam: CameraInfo): string {
  if (!cam.video) return '';
  return cam.video.mode === 'copy' ? 'video: camera H.264, copied' : `video: ${cam.video.reason ?? 'transcoded to H.264'}`;
}

class Tile {
  readonly el = h('article', 'tile');
  readonly player: CameraPlayer;
  private readonly head = h('header', 'tile-head');
  private readonly reason = h('p', 'reason');
  private readonly stats = h('p', 'stats');
  private readonly video = h('p', 'video-path');

  constructor(
    private cam: CameraInfo,
    private readonly deps: ViewDeps,
    private readonly detailed: boolean,
  ) {
    this.player = new CameraPlayer(cam, deps.sources);
    this.el.dataset.camera = cam.id;
    this.el.append(this.head, this.player.el, this.reason);
    if (detailed) this.el.append(this.video, this.stats);
    this.render();
  }

  update(cam: CameraInfo): void {
    this.cam = cam;
    this.player.update(cam);
    this.render();
  }

  renderStats(): void {
    if (!this.detailed) return;
    const c = this.cam;
    const d = this.player.overlay.debug;
    const lat = this.player.latencyMs;
    this.stats.textContent =
      `run ${c.run} · sampled ${c.framesSampled} · dropped ${c.framesDropped} · restarts ${c.restarts}` +
      ` · latency vs PDT ${lat === null ? '–' : `${(lat / 1000).toFixed(2)} s`} · sampled frames shown ${d.drawnCount}`;
  }

  render(): void {
    const c = this.cam;
    const title = this.detailed ? h('h1', 'name', c.name) : h('a', 'name', c.name);
    if (title instanceof HTMLAnchorElement) title.href = `#/camera/${encodeURIComponent(c.id)}`;
    this.head.replaceChildren(...[title, transcodedMark(c), alertBadge(this.deps.alerts, c.id), badge(c)].filter((e) => e !== null));
    this.video.textContent = videoLine(c);
    this.reason.textContent = c.state === 'live' ? '' : c.reason ?? (c.state === 'connecting' ? 'connecting to the camera…' : '');
    this.el.dataset.state = c.state;
    this.renderStats();
  }
}

/** Shared by both views: tiles keyed by camera id, rooms watched while a tile exists. */
class TileSet {
  private readonly tiles = new Map<string, { tile: Tile; unwatch: () => void }>();
  private readonly timer = setInterval(() => this.tiles.forEach(({ tile }) => tile.renderStats()), 1000);
  private readonly unsubscribeAlerts: () => void;

  constructor(
    private readonly root: HTMLElement,
    private readonly deps: ViewDeps,
    private readonly detailed: boolean,
  ) {
    this.unsubscribeAlerts = deps.alerts.onChange(() => this.tiles.forEach(({ tile }) => tile.render()));
  }

  sync(cams: CameraInfo[]): void {
    const ids = new Set(cams.map((c) => c.id));
    for (const [id, t] of this.tiles) if (!ids.has(id)) this.remove(id, t);
    for (const cam of cams) {
      const t = this.tiles.get(cam.id);
      if (t) t.tile.update(cam);
      else {
        const tile = new Tile(cam, this.deps, this.detailed);
        this.tiles.set(cam.id, { tile, unwatch: this.deps.socket.watch(cam.id) });
        this.root.append(tile.el);
      }
    }
  }

  camera(cam: CameraInfo): void {
    this.tiles.get(cam.id)?.tile.update(cam);
  }

  players(): CameraPlayer[] {
    return [...this.tiles.values()].map((t) => t.tile.player);
  }

  destroy(): void {
    clearInterval(this.timer);
    this.unsubscribeAlerts();
    for (const [id, t] of this.tiles) this.remove(id, t);
  }

  private remove(id: string, t: { tile: Tile; unwatch: () => void }): void {
    t.unwatch();
    t.tile.player.destroy();
    t.tile.el.remove();
    this.tiles.delete(id);
  }
}

export function gridView(app: HTMLElement, deps: ViewDeps): View {
  const grid = h('section', 'grid');
  const empty = h('p', 'empty', 'No cameras configured. Add one under `cameras:` in config/vigil.yaml or with --camera ID=URL.');
  app.replaceChildren(grid);
  const tiles = new TileSet(grid, deps, false);
  return {
    update(cams) {
      tiles.sync(cams);
      if (cams.length === 0) app.replaceChildren(empty);
      else if (!grid.isConnected) app.replaceChildren(grid);
    },
    camera: (cam) => tiles.camera(cam),
    players: () => tiles.players(),
    destroy: () => tiles.destroy(),
  };
}

export function cameraView(app: HTMLElement, id: string, deps: ViewDeps): View {
  const one = h('section', 'single');
  const back = h('a', 'back', '← all cameras');
  back.href = '#/';
  const missing = h('p', 'empty', `No camera "${id}".`);
  app.replaceChildren(back, one);
  const tiles = new TileSet(one, deps, true);
  // Counters (frames sampled, dropped) change with every frame but are only pushed with state
  // changes: poll them while this view is open (and the camera exists: a 404 a second helps nobody).
  let known = false;
  const poll = setInterval(async () => {
    if (!known) return;
    const res = await fetch(`/api/cameras/${encodeURIComponent(id)}`, { cache: 'no-store' }).catch(() => null);
    if (res?.ok) tiles.camera((await res.json()) as CameraInfo);
  }, 2000);
  return {
    update(cams) {
      const cam = cams.find((c) => c.id === id);
      known = cam !== undefined;
      tiles.sync(cam ? [cam] : []);
      if (!cam) app.replaceChildren(back, missing);
      else if (!one.isConnected) app.replaceChildren(back, one);
    },
    camera: (cam) => cam.id === id && tiles.camera(cam),
    players: () => tiles.players(),
    destroy: () => {
      clearInterval(poll);
      tiles.destroy();
    },
  };
}
