// Dashboard entry: one socket provider, one frame buffer, hash routing between the grid and a camera.
import './style.css';
import type { CameraInfo } from '../../server/wire.ts';
import { FrameBuffer } from './frames.ts';
import { SocketProvider } from './socket.ts';
import { cameraView, gridView, type View } from './views.ts';
import { installTestHooks } from './test-hooks.ts';

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

if (__VIGIL_TEST_HOOKS__) installTestHooks(() => view, () => socket.state);
