// Shared setup of the rules-loop tests: a real server (real CameraSupervisor and ffmpeg, real SQLite store) whose
// rules ask a vision engine; the engine is Vigil's real OpenAIEngine in front of the vision judge (answers from the
// picture), or any VisionEngine the test brings (the local engine on a random-weight pair).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { validateConfig } from '../../config/load.ts';
import type { VigilConfigInput } from '../../config/schema.ts';
import type { RuleInput } from '../../config/rule.ts';
import { OpenAIEngine, openAIOptionsFromConfig } from '../../pipelines/engine/openai.ts';
import type { VisionEngine } from '../../pipelines/engine/types.ts';
import type { DetectionMessage, EventMessage } from '../../pipelines/rules/types.ts';
import type { StreamMessage } from '../../server/wire.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import type { VisionJudge } from '../support/vision-judge.ts';

/** The judge as config sees it: an OpenAI-compatible endpoint, no retries (an outage shows at once). */
export function judgeEngineConfig(judge: VisionJudge, timeout = 10): VigilConfigInput['engine'] {
  return { kind: 'openai', openai: { baseUrl: judge.baseUrl, model: 'vision-judge', family: 'qwen2.5-vl', retries: 0, timeout } };
}

export async function startJudgeEngine(judge: VisionJudge, timeout?: number): Promise<OpenAIEngine> {
  const cfg = validateConfig({ engine: judgeEngineConfig(judge, timeout) });
  const engine = new OpenAIEngine(openAIOptionsFromConfig(cfg.engine));
  await engine.start();
  return engine;
}

export interface RulesServer {
  server: TestServer;
  detections: DetectionMessage[];
  events: EventMessage[];
  /** Frames the camera manager delivered (video runs whatever the engine does). */
  frames: () => number;
  close(): Promise<void>;
}

/** A real server with one camera and `rules`, asking `engine`. */
export async function startRulesServer(o: { camera: string; source: string; sampleInterval: number; rules: RuleInput[]; engine: VisionEngine; engineConfig?: VigilConfigInput['engine'] }): Promise<RulesServer> {
  const clientDir = mkdtempSync(join(tmpdir(), 'vigil-client-'));
  mkdirSync(join(clientDir, 'assets'), { recursive: true });
  writeFileSync(join(clientDir, 'index.html'), '<!doctype html><title>Vigil</title>');
  const server = await startTestServer(
    { cameras: [{ id: o.camera, source: o.source, sampleInterval: o.sampleInterval }], rules: o.rules, ...(o.engineConfig ? { engine: o.engineConfig } : {}) },
    { real: true, clientDir, visionEngine: o.engine },
  );
  const detections: DetectionMessage[] = [];
  const events: EventMessage[] = [];
  let frames = 0;
  server.rules!.on('detections', (d) => void detections.push(d));
  server.rules!.on('event', (m) => void events.push(m));
  server.cameras.on('frame', () => void frames++);
  return { server, detections, events, frames: () => frames, close: () => server.dispose() };
}

/** Collects /api/stream messages of a camera. */
export async function streamClient(url: string, camera: string): Promise<{ messages: StreamMessage[]; close(): void }> {
  const ws = new WebSocket(new URL(`/api/stream?camera=${camera}`, url.replace(/^http/, 'ws')));
  const messages: StreamMessage[] = [];
  ws.on('message', (data) => void messages.push(JSON.parse(String(data)) as StreamMessage));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { messages, close: () => ws.close() };
}

export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
