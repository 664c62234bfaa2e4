// Dashboard entry: one socket provider, one frame buffer, hash routing between the grid and a camera.
import './style.css';
import type { CameraInfo } from '../../server/wire.ts';
import { FrameBuffer } from './frames.ts';
import type { OverlayDebug } from './overlay.ts';
import { SocketProvider } from './socket.ts';
import { cameraView, gridView, type View } from './views.ts';

interface VigilDebug {
  /** Overlay state of the first player in the current view. */
  readonly overlay: OverlayDebug | null;
  /** Display time minus PDT of the frame on screen (ms), first player. */
  readonly latencyMs: number | null;
  readonly players: Array<{ camera: string; overlay: OverlayDebug; latencyMs: number | null; currentTime: number; presentedFrames: number }>;
  readonly connection: string;
}

declare global {
  interface Window {
    __vigil?: VigilDebug;
  }
}

const app = document.getElementById('app') as HTMLElement;
const conn = document.getElementById('conn') as HTMLElement;
const frames = new FrameBuffer();
const socket = new SocketProvider();
/** null until the first list arrives: "no such camera" is only said once we know. */
let cameras: CameraInfo[] | null = null;
let view: View | null = null;

function route(): void {
  view?.destroy();
  const m = /^#\/camera\/([^/]+)$/.exec(location.hash);
  view = m ? cameraView(app, decodeURIComponent(m[1] as string), socket, frames) : gridView(app, socket, frames);
  if (cameras) view.update(cameras);
}

socket.onCameras((cams) => {
  cameras = cams;
  view?.update(cams);
});
socket.onCamera((cam) => {
  const i = cameras?.findIndex((c) => c.id === cam.id) ?? -1;
  if (cameras && i >= 0) cameras[i] = cam;
  view?.camera(cam);
});
socket.onFrame((f) => frames.push(f));
socket.onConnection((s) => {
  conn.dataset.state = s;
  conn.textContent = s;
});
window.addEventListener('hashchange', route);
route();

window.__vigil = {
  get overlay() {
    return view?.players()[0]?.overlay.debug ?? null;
  },
  get latencyMs() {
    return view?.players()[0]?.latencyMs ?? null;
  },
  get players() {
    return (view?.players() ?? []).map((p) => ({
      camera: p.overlay.debug.camera,
      overlay: p.overlay.debug,
      latencyMs: p.latencyMs,
      currentTime: p.video.currentTime,
      presentedFrames: p.overlay.debug.presentedCount,
    }));
  },
  get connection() {
    return socket.state;
  },
};
