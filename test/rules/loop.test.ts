// The rules loop end to end with real parts: the shape camera (RTSP, ffmpeg, burned clock) through the real server
// and CameraSupervisor, Vigil's OpenAIEngine asking the vision judge (which answers from the picture), the SQLite
// store. One scripted scene, compared with the camera's ground truth:
//   before origin     absent             -> nothing opens
//   [0, 2 s)          appears, moves      \
//   [2 s, 5 s)        stands still        / ONE event: opens after 2 of 3, stays one event while it stands
//   [5 s, 7 s)        absent             -> closes after 2 negatives
//   [7 s, 8.5 s)      back (cooldown 5 s) -> seen (positive evaluations) but no event
//   [13 s, 15 s)      back after cooldown -> a second event
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRecord } from '../../pipelines/rules/types.ts';
import type { EventMessage } from '../../server/wire.ts';
import type { OpenAIEngine } from '../../pipelines/engine/openai.ts';
import { io as connectIo, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../server/wire.ts';
import { startShapeCamera, type ShapeCamera } from '../support/shape-camera.ts';
import { startVisionJudge, type VisionJudge } from '../support/vision-judge.ts';
import { startJudgeEngine, startRulesServer, streamClient, until, type RulesServer } from './helpers.ts';

const LEAD = 9000; // camera start, probe and first frames (about 5 s here) before the scene begins
const W = 640;
const H = 360;

describe('rules loop on a real camera with the vision judge', () => {
  let cam: ShapeCamera;
  let judge: VisionJudge;
  let engine: OpenAIEngine;
  let run: RulesServer;
  let stream: Awaited<ReturnType<typeof streamClient>>;
  let socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  const room: { detections: number; events: EventMessage[] } = { detections: 0, events: [] };

  beforeAll(async () => {
    const origin = Date.now() + LEAD;
    [cam, judge] = await Promise.all([
      startShapeCamera({
        colour: 'red',
        shape: 'square',
        size: 80,
        width: W,
        height: H,
        origin,
        timeline: {
          visible: [{ from: 0, to: 5000 }, { from: 7000, to: 8500 }, { from: 13_000, to: 15_000 }],
          path: [{ at: 0, x: 60, y: 160 }, { at: 2000, x: 400, y: 200 }],
        },
      }),
      startVisionJudge(),
    ]);
    engine = await startJudgeEngine(judge);
    run = await startRulesServer({
      camera: 'cam',
      source: cam.url,
      sampleInterval: 0.5,
      engine,
      rules: [{ id: 'red', kind: 'detect', question: 'red square', trigger: { n: 2, of: 3 }, end: { negatives: 2 }, cooldown: 5 }],
    });
    stream = await streamClient(run.server.url, 'cam');
    socket = connectIo(run.server.url, { transports: ['websocket'], reconnection: false });
    socket.on('detections', () => void room.detections++);
    socket.on('event', (m) => void room.events.push(m));
    expect((await socket.emitWithAck('watch', 'cam'))?.id).toBe('cam');
    const frames: Array<{ pdt: number; outcome: string }> = [];
    run.server.rules!.on('frame', (f) => void frames.push(f));
    // The scene is over once the second event has closed.
    await until(() => run.events.filter((m) => m.type === 'closed').length >= 2, 'the second event to close', 60_000);
    if (process.env.VIGIL_DEBUG) console.log(frames.map((f) => `${f.pdt - origin}:${f.outcome}`).join(' '));
    if (process.env.VIGIL_DEBUG) console.log(run.detections.map((d) => `${d.pdt - origin}:${d.outcome[0]}${d.gated ? 'g' : ''}`).join(' '), run.events.map((m) => `${m.type}@${m.event.startPdt - origin}`));
  }, 90_000);

  afterAll(async () => {
    stream?.close();
    socket?.close();
    await run?.close();
    await Promise.all([cam?.close(), engine?.close(), judge?.close()]);
  });

  const stored = async (): Promise<EventRecord[]> =>
    (await run.server.store.events.list({ rule: 'red', camera: 'cam' })).events.sort((a, b) => a.startPdt - b.startPdt);

  it('opens one event per appearance outside the cooldown: after 2 of 3, closed after 2 negatives, one event while the shape stands', async () => {
    const events = await stored();
    const t = (pdt: number) => pdt - cam.origin;
    expect(events.map((e) => [e.state, e.closeReason])).toEqual([
      ['closed', 'negatives'],
      ['closed', 'negatives'],
    ]);
    const [first, second] = events as [EventRecord, EventRecord];
    // pdt is within 250 ms of capture; a frame every 500 ms.
    expect(t(first.startPdt)).toBeGreaterThanOrEqual(-300);
    expect(t(first.startPdt)).toBeLessThan(1500);
    expect(t(first.endPdt!)).toBeGreaterThanOrEqual(5000 - 300);
    expect(t(first.endPdt!)).toBeLessThan(6000);
    expect(t(second.startPdt)).toBeGreaterThanOrEqual(13_000 - 300);
    expect(t(second.startPdt)).toBeLessThan(14_500);
    expect(first.peak).toBe(1);
    // The standing shape updated nothing: one open and one close per appearance, no other message.
    expect(run.events.map((m) => m.type)).toEqual(['opened', 'closed', 'opened', 'closed']);
    // The event took the evaluations that confirmed it (at least 2 positives) and those while it was open.
    const detail = await run.server.store.events.get(first.id);
    expect(detail!.evaluations.filter((e) => e.outcome === 'positive').length).toBeGreaterThanOrEqual(4);
    expect(detail!.prompt).toContain('red square');
    expect(detail!.engine).toEqual({ kind: 'openai', model: 'vision-judge' });
  });

  it('sees the shape during the cooldown but opens nothing, and nothing while the shape is absent', () => {
    const t = (pdt: number) => pdt - cam.origin;
    const red = run.detections.filter((d) => d.rule === 'red');
    const inside = (from: number, to: number) => red.filter((d) => t(d.pdt) >= from + 300 && t(d.pdt) < to - 300);
    expect(inside(-4000, 0).length).toBeGreaterThanOrEqual(2);
    expect(inside(-LEAD, 0).every((d) => d.outcome === 'negative')).toBe(true);
    expect(inside(9000, 13_000).every((d) => d.outcome === 'negative')).toBe(true);
    const cooldown = inside(7000, 8500);
    expect(cooldown.length).toBeGreaterThan(0);
    expect(cooldown.every((d) => d.outcome === 'positive')).toBe(true);
    const opened = run.events.filter((m) => m.type === 'opened').map((m) => t(m.event.startPdt));
    expect(opened.filter((s) => s > 6000 && s < 12_000)).toEqual([]);
  });

  it("stores boxes that match the shape's position in the stored frame (ground truth from its burned clock)", async () => {
    for (const e of await stored()) {
      const detail = (await run.server.store.events.get(e.id))!;
      const best = detail.evaluations.find((v) => v.pdt === e.bestPdt)!;
      expect(best.boxes).toHaveLength(1);
      const snapshot = readFileSync(run.server.store.events.filePath(e.id, 'snapshot')!);
      // The stored frame is on the engine grid (644x364 here); the ground truth reads it at the camera's size.
      const truth = await cam.truthOf(await sharp(snapshot).resize(W, H, { fit: 'fill' }).jpeg({ quality: 95 }).toBuffer());
      expect(truth.box).not.toBeNull();
      const b = best.boxes[0]!;
      for (const k of ['x1', 'y1', 'x2', 'y2'] as const) expect(Math.abs(b[k] - truth.box![k])).toBeLessThanOrEqual(4);
      expect([best.sourceW, best.sourceH]).toEqual([W, H]);
      const thumb = await sharp(readFileSync(run.server.store.events.filePath(e.id, 'thumbnail')!)).metadata();
      expect([thumb.width, thumb.height]).toEqual([320, 180]);
      const annotated = await sharp(readFileSync(run.server.store.events.filePath(e.id, 'annotated')!)).metadata();
      expect(annotated.format).toBe('jpeg');
    }
  });

  it("publishes every evaluation and each event change to the camera's socket.io room", () => {
    expect(room.detections).toBeGreaterThan(10);
    expect(room.events.map((m) => m.type)).toEqual(['opened', 'closed', 'opened', 'closed']);
    expect(room.events[1]!.event.annotated).toBe(`/api/events/${room.events[1]!.event.id}/annotated`);
  });

  it('publishes every evaluation and each event change on /api/stream with the image URLs', () => {
    const types = stream.messages.map((m) => m.type);
    expect(types.filter((x) => x === 'detections').length).toBeGreaterThan(10);
    const changes = stream.messages.filter((m): m is EventMessage => m.type === 'opened' || m.type === 'closed');
    expect(changes.map((m) => m.type)).toEqual(['opened', 'closed', 'opened', 'closed']);
    const first = changes[0]!;
    expect(first.event.snapshot).toBe(`/api/events/${first.event.id}/snapshot`);
    expect(first.event.thumbnail).toBe(`/api/events/${first.event.id}/thumbnail`);
  });
});
