// The rig of the dashboard's rules tests in Chromium: a shape camera (test/support/shape-camera.ts) as camera
// "cam" ("Yard", sampled every 0.5 s), the vision judge behind Vigil's own OpenAI engine, a real `vigil serve`
// server over them with the built dashboard, and Chromium. Started with the camera live (and, when asked, its
// first sampled frame stored); closed in the reverse order.
import type { VigilConfigInput } from '../../config/schema.ts';
import type { OpenAIEngine } from '../../pipelines/engine/openai.ts';
import type { StartOptions } from '../../server/app.ts';
import type { CameraInfo } from '../../server/wire.ts';
import { startJudgeEngine, until } from '../rules/helpers.ts';
import { containRect } from '../../client/src/overlay.ts';
import { buildDashboard, launchBrowser, type Page, type TestBrowser } from './browser.ts';
import { startTestServer, type TestServer } from './server.ts';
import { startShapeCamera, type ShapeBox, type ShapeCamera, type ShapeCameraOptions } from './shape-camera.ts';
import { startVisionJudge, type VisionJudge } from './vision-judge.ts';

/** The moving-square camera's picture (source pixels) and frame time (the shape camera's 30 fps). */
export const W = 640;
export const H = 360;
export const FRAME_MS = 1000 / 30;

/** A red 80 px square crossing the picture at 480 px a second (16 px a frame: a box one frame off misses the truth
 *  by far more than a 4 px tolerance), shown 5 s of every 8. `turnsAt` shifts its turns: a quarter second off the
 *  half-second sampling grid keeps the frames either side of a turn from looking alike. */
export function movingSquare(turnsAt: number): ShapeCameraOptions {
  const path = [40, 520, 40, 520, 40, 520].map((x, i) => ({ at: turnsAt + i * 1000, x, y: [120, 160, 240, 200][i % 4]! }));
  return { colour: 'red', shape: 'square', size: 80, width: W, height: H, timeline: { visible: [{ from: 0, to: 5000 }], path, loopMs: 8000 } };
}

/** The largest edge difference of two boxes (pixels). */
export function boxMiss(a: ShapeBox, b: ShapeBox): number {
  return Math.max(...(['x1', 'y1', 'x2', 'y2'] as const).map((k) => Math.abs(a[k] - b[k])));
}

/** Maps boxes drawn over the video element (CSS pixels) back to the camera's source pixels. */
export async function toSourcePixels(page: Page, video: string): Promise<(b: ShapeBox) => ShapeBox> {
  const el = await page.evaluate((sel) => {
    const v = document.querySelector<HTMLVideoElement>(sel)!;
    return { w: v.clientWidth, h: v.clientHeight, vw: v.videoWidth, vh: v.videoHeight };
  }, video);
  const r = containRect(el.w, el.h, el.vw, el.vh);
  return (b) => ({ x1: ((b.x1 - r.x) * W) / r.w, y1: ((b.y1 - r.y) * H) / r.h, x2: ((b.x2 - r.x) * W) / r.w, y2: ((b.y2 - r.y) * H) / r.h });
}

export interface RulesRigOptions {
  camera: ShapeCameraOptions;
  /** `rules:` of the server's config (provisioned rules). */
  rules?: VigilConfigInput['rules'];
  /** More of the server's config (e.g. notify channels). */
  config?: Omit<Partial<VigilConfigInput>, 'cameras' | 'rules'>;
  /** More server start options (e.g. the engine state /api/health reports). */
  server?: Omit<StartOptions, 'clientDir' | 'visionEngine'>;
  /** Wait for the camera's first sampled frame too (pages that show it: the zone editor, Try it). */
  firstFrame?: boolean;
  /** Called (and awaited) as soon as the server runs, before the camera is live: listeners that must see the first
   *  event, rules made through the API that must see the camera's first frames. */
  onServer?: (server: TestServer) => void | Promise<void>;
}

export interface RulesRig {
  cam: ShapeCamera;
  judge: VisionJudge;
  engine: OpenAIEngine;
  server: TestServer;
  browser: TestBrowser;
  close(): Promise<void>;
}

export async function startRulesRig(o: RulesRigOptions): Promise<RulesRig> {
  const clientDir = buildDashboard();
  const [cam, judge] = await Promise.all([startShapeCamera(o.camera), startVisionJudge()]);
  const engine = await startJudgeEngine(judge);
  const server = await startTestServer(
    { ...o.config, cameras: [{ id: 'cam', name: 'Yard', source: cam.url, sampleInterval: 0.5 }], ...(o.rules ? { rules: o.rules } : {}) },
    { real: true, clientDir, visionEngine: engine, ...o.server },
  );
  await o.onServer?.(server);
  const browser = await launchBrowser();
  const rig: RulesRig = {
    cam,
    judge,
    engine,
    server,
    browser,
    async close() {
      await browser.close();
      await server.dispose();
      await Promise.all([cam.close(), engine.close(), judge.close()]);
    },
  };
  try {
    const get = (path: string) => fetch(new URL(path, server.url));
    await until(async () => ((await (await get('/api/cameras/cam')).json()) as CameraInfo).state === 'live', 'the camera to go live', 30_000, 200);
    // Before its first frame, a page showing the newest frame would retry on a 409.
    if (o.firstFrame) await until(async () => (await get('/api/cameras/cam/frame.jpg')).status === 200, 'the first sampled frame', 30_000, 200);
  } catch (err) {
    await rig.close();
    throw err;
  }
  return rig;
}
