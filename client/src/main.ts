// Dashboard entry: the login form when the page has no session; else one socket provider feeding the page's stores (sampled frames, rule results, open
// events), the engine banner, the open-events panel, and hash routing between the grid and a camera.
import './style.css';
import type { CameraInfo } from '../../server/wire.ts';
import { AlertStore, fetchOpenEvents } from './alerts.ts';
import { AlertsPanel } from './alerts-view.ts';
import { DetectionBuffer } from './detections.ts';
import { EngineBanner } from './engine-banner.ts';
import { FrameBuffer } from './frames.ts';
import { RuleNames } from './rule-names.ts';
import { SocketProvider } from './socket.ts';
import { AlertSound } from './sound.ts';
import { cameraView, gridView, type View, type ViewDeps } from './views.ts';
import { installTestHooks } from './test-hooks.ts';
import { accountBar, showLogin, whoAmI, type Me } from './login.ts';
import { matchPage, PAGES } from './routes.ts';
import './pages.ts';
import { cameras as cameraSignal } from './page.tsx';

const app = document.getElementById('app') as HTMLElement;
const conn = document.getElementById('conn') as HTMLElement;
const me = await whoAmI();
if (me) start(me);
else showLogin(app);

function start(me: Me): void {
  conn.after(accountBar(me));
  const socket = new SocketProvider();
  const rules = new RuleNames();
  const alerts = new AlertStore();
  const sound = new AlertSound();
  const detections = new DetectionBuffer();
  const deps: ViewDeps = { socket, alerts, sources: { frames: new FrameBuffer(), detections, ruleName: (id) => rules.name(id) } };
  /** null until the first list arrives: "no such camera" is only said once we know. */
  let cameras: CameraInfo[] | null = null;
  let view: View | null = null;

  const banner = new EngineBanner();
  const panel = new AlertsPanel(alerts, sound, (id) => cameras?.find((c) => c.id === id)?.name ?? id);
  app.before(banner.el, panel.el);
  conn.before(navBar());
  conn.before(panel.soundButton);
  banner.start();

  function route(): void {
    view?.destroy();
    const page = matchPage(location.hash);
    const m = /^#\/camera\/([^/]+)$/.exec(location.hash);
    view = page ? page.route.mount(app, page.params, deps) : m ? cameraView(app, decodeURIComponent(m[1] as string), deps) : gridView(app, deps);
    if (cameras) view.update(cameras);
  }

  socket.onCameras((cams) => {
    cameras = cams;
    cameraSignal.value = cams;
    view?.update(cams);
    panel.render();
  });
  socket.onCamera((cam) => {
    const i = cameras?.findIndex((c) => c.id === cam.id) ?? -1;
    if (cameras && i >= 0) cameras[i] = cam;
    view?.camera(cam);
  });
  socket.onFrame((f) => deps.sources.frames.push(f));
  socket.onDetections((d) => {
    detections.push(d);
    rules.seen(d.rule);
  });
  socket.onEvent((m) => {
    rules.learn(m.event);
    if (alerts.apply(m) && m.event.severity === 'alert') sound.play();
  });
  // Missed while disconnected (or before the first connect): open events and rule names.
  socket.onResync(() => {
    void fetchOpenEvents(alerts);
    void rules.load();
  });
  // A session ended elsewhere (logged out in another tab, password changed): the socket is refused; show the login.
  socket.onConnection((s) => {
    if (s === 'reconnecting' && me.via === 'session') void whoAmI().then((still) => still || location.reload(), () => undefined);
  });
  socket.onConnection((s) => {
    conn.dataset.state = s;
    conn.textContent = s;
  });
  window.addEventListener('hashchange', route);
  route();

  if (__VIGIL_TEST_HOOKS__) installTestHooks(() => view, () => socket.state, sound);
}

/** Links to the live grid and every page that asks for a nav entry (routes.ts). */
function navBar(): HTMLElement {
  const nav = document.createElement('nav');
  nav.className = 'pages';
  for (const { label, href } of [{ label: 'Live', href: '#/' }, ...PAGES.flatMap((p) => (p.nav ? [p.nav] : []))]) {
    const a = document.createElement('a');
    a.href = href;
    a.textContent = label;
    nav.append(a);
  }
  return nav;
}
