// The rig of the dashboard's rules tests in Chromium: a shape camera (test/support/shape-camera.ts) as camera
// "cam" ("Yard", sampled every 0.5 s), the vision judge behind Vigil's own OpenAI engine, a real `vigil serve`
// server over them with the built dashboard, and Chromium. Started with the camera live (and, when asked, its
// first sampled frame stored); closed in the reverse order.
import type { VigilConfigInput } from '../../config/schema.ts';
import type { OpenAIEngine } from '../../pipelines/engine/openai.ts';
import type { StartOptions } from '../../server/app.ts';
import type { CameraInfo } from '../../server/wire.ts';
import { startJudgeEngine, until } from '../rules/helpers.ts';
import { buildDashboard, launchBrowser, type TestBrowser } from './browser.ts';
import { startTestServer, type TestServer } from './server.ts';
import { startShapeCamera, type ShapeCamera, type ShapeCameraOptions } from './shape-camera.ts';
import { startVisionJudge, type VisionJudge } from './vision-judge.ts';

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
  /** Called as soon as the server runs, before any frame: listeners that must see the first event. */
  onServer?: (server: TestServer) => void;
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
  o.onServer?.(server);
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
