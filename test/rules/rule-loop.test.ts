// RuleLoop as a unit of real parts: frames pushed as the camera manager delivers them (JPEGs drawn here, on the
// model grid and smaller than the source picture), Vigil's OpenAIEngine asking the vision judge, the SQLite store
// as the EventSink. Scheduling, the change gate, rule changes, shutdown and test() each in their own case.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { AnalysisSchema, RuleSchema, type RuleInput } from '../../config/rule.ts';
import type { Frame } from '../../pipelines/ingest/types.ts';
import { silentLogger, type Logger } from '../../pipelines/log.ts';
import { pino } from 'pino';
import type { OpenAIEngine } from '../../pipelines/engine/openai.ts';
import { RuleLoop, type RuleLoopEvents } from '../../pipelines/rules/rule-loop.ts';
import type { ActiveRule, EventMessage } from '../../pipelines/rules/types.ts';
import { openSqliteStore, storeFileIn, type Store } from '../../pipelines/store/index.ts';
import { startVisionJudge, type VisionJudge } from '../support/vision-judge.ts';
import { startJudgeEngine, until } from './helpers.ts';

/** Frame on the grid (224x168) of a 448x336 camera; the red square's corner in FRAME pixels, or none. */
async function frame(camera: string, pdt: number, square: { x: number; y: number; colour?: string } | null, seq = 0): Promise<Frame> {
  const overlay = square
    ? [{ input: await sharp({ create: { width: 40, height: 40, channels: 3, background: square.colour ?? '#dc1e1e' } }).png().toBuffer(), left: square.x, top: square.y }]
    : [];
  const jpeg = await sharp({ create: { width: 224, height: 168, channels: 3, background: '#404040' } }).composite(overlay).jpeg({ quality: 95 }).toBuffer();
  return { camera, run: 1, seq, pts: seq, pdt, jpeg, width: 224, height: 168, sourceW: 448, sourceH: 336 };
}

const rule = (r: Partial<RuleInput> & { id: string }, version = 1): ActiveRule => ({
  rule: RuleSchema.parse({ kind: 'detect', question: 'red square', trigger: { n: 1, of: 1 }, end: { negatives: 1 }, cooldown: 0, ...r }),
  version,
});

interface Rig {
  judge: VisionJudge;
  engine: OpenAIEngine;
  store: Store;
  loop: RuleLoop;
  seen: { [K in keyof RuleLoopEvents]: RuleLoopEvents[K][0][] };
}

let rig: Rig | null = null;
let dir = '';

interface RigOptions {
  cameras?: string[];
  judgeDelay?: number;
  /** The engine's request timeout (s). */
  timeout?: number;
  log?: Logger;
}

async function start(analysis: Partial<ReturnType<typeof AnalysisSchema.parse>> = {}, o: RigOptions = {}): Promise<Rig> {
  const cameras = o.cameras ?? ['a'];
  dir = mkdtempSync(join(tmpdir(), 'vigil-loop-'));
  const judge = await startVisionJudge({ delayMs: o.judgeDelay ?? 0 });
  const engine = await startJudgeEngine(judge, o.timeout);
  const store = await openSqliteStore({ file: storeFileIn(dir), dataDir: dir });
  const loop = new RuleLoop({
    engine,
    sink: store.events,
    analysis: AnalysisSchema.parse({ changeThreshold: 0, ...analysis }),
    cameras: () => cameras.map((id) => ({ id, sampleInterval: 0.5 })),
    log: o.log ?? silentLogger,
  });
  const seen = { evaluation: [], detections: [], event: [], frame: [], ask: [] } as Rig['seen'];
  for (const k of Object.keys(seen) as (keyof RuleLoopEvents)[]) loop.on(k, ((x: unknown) => void (seen[k] as unknown[]).push(x)) as never);
  rig = { judge, engine, store, loop, seen };
  return rig;
}

afterEach(async () => {
  if (rig) {
    await rig.loop.close();
    await rig.store.close();
    await rig.engine.close();
    await rig.judge.close();
    rig = null;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const settle = (r: Rig, frames: number) => until(() => r.seen.frame.length >= frames, `${frames} frame outcomes`, 20_000, 10);
const T0 = 1_750_000_000_000;

describe('RuleLoop', () => {
  it('asks every due rule of a frame in ONE ask, and maps boxes from the smaller frame to source pixels', async () => {
    const r = await start();
    const colours = ['red', 'green', 'blue', 'yellow', 'magenta'];
    await r.loop.setRules(colours.map((c) => rule({ id: c, question: `${c} square` })));
    r.loop.push(await frame('a', T0, { x: 50, y: 60 }));
    await settle(r, 1);
    expect(r.seen.ask).toEqual([expect.objectContaining({ camera: 'a', questions: 5, ok: true })]);
    expect(r.seen.frame.map((f) => f.outcome)).toEqual(['asked']);
    const red = r.seen.evaluation.find((e) => e.rule === 'red')!;
    expect(red.outcome).toBe('positive');
    // 40 px at (50, 60) in the 224x168 frame = 80 px at (100, 120) in the 448x336 source (JPEG edges: 2 frame px).
    const b = red.boxes[0]!;
    [b.x1, b.y1, b.x2, b.y2].forEach((v, i) => expect(Math.abs(v - [100, 120, 180, 200][i]!)).toBeLessThanOrEqual(4));
    expect(r.seen.evaluation.filter((e) => e.rule !== 'red').map((e) => e.outcome)).toEqual(['negative', 'negative', 'negative', 'negative']);
    // The event's evidence is drawn on the frame JPEG itself (224x168) with the box mapped back onto it.
    const opened = r.seen.event.find((m) => m.type === 'opened')!;
    const annotated = await sharp(r.store.events.filePath(opened.event.id, 'annotated')!).metadata();
    expect([annotated.width, annotated.height]).toEqual([224, 168]);
  });

  it('takes cameras in turn with at most maxInFlight asks, and the newest waiting frame of a camera wins', async () => {
    const r = await start({ maxInFlight: 1 }, { cameras: ['a', 'b'], judgeDelay: 150 });
    await r.loop.setRules([rule({ id: 'red' })]);
    for (let i = 0; i < 4; i++) r.loop.push(await frame('a', T0 + i * 500, null, i));
    r.loop.push(await frame('b', T0, null));
    await settle(r, 5);
    expect(r.seen.frame.map((f) => `${f.camera}:${f.pdt - T0}:${f.outcome}`).sort()).toEqual(
      ['a:0:asked', 'a:1000:dropped-newer', 'a:1500:asked', 'a:500:dropped-newer', 'b:0:asked'].sort(),
    );
    // a was just served, so b goes before a's newer frame.
    expect(r.seen.evaluation.map((e) => `${e.camera}:${e.pdt - T0}`)).toEqual(['a:0', 'b:0', 'a:1500']);
    expect(r.judge.maxInFlight).toBe(1);
  });

  it('drops a frame that waited longer than maxFrameAge for its turn, and counts it', async () => {
    const r = await start({ maxInFlight: 1, maxFrameAge: 0.2 }, { cameras: ['a', 'b'], judgeDelay: 400 });
    await r.loop.setRules([rule({ id: 'red' })]);
    r.loop.push(await frame('a', T0, null));
    r.loop.push(await frame('b', T0, null));
    await settle(r, 2);
    expect(r.seen.frame.map((f) => `${f.camera}:${f.outcome}`).sort()).toEqual(['a:asked', 'b:dropped-stale']);
    expect(r.seen.evaluation.map((e) => e.camera)).toEqual(['a']);
  });

  it('change gate: an unchanged frame repeats the last asked answer without the model; a rule never asked is asked anyway', async () => {
    const r = await start({ changeThreshold: 4, forceEvery: 60 });
    await r.loop.setRules([rule({ id: 'red' })]);
    for (let i = 0; i < 3; i++) {
      r.loop.push(await frame('a', T0 + i * 500, { x: 50, y: 60 }, i));
      await settle(r, i + 1);
    }
    expect(r.seen.frame.map((f) => f.outcome)).toEqual(['asked', 'gated', 'gated']);
    expect(r.seen.evaluation.map((e) => [e.outcome, e.gated])).toEqual([['positive', false], ['positive', true], ['positive', true]]);
    expect(r.seen.evaluation[2]!.boxes).toEqual(r.seen.evaluation[0]!.boxes);
    expect(r.judge.requests.length).toBe(1);
    // Still ONE event: the repeats keep it open.
    expect(r.seen.event.map((m) => m.type)).toEqual(['opened']);
    await r.loop.setRules([rule({ id: 'red' }), rule({ id: 'blue', question: 'blue square' })]);
    r.loop.push(await frame('a', T0 + 1500, { x: 50, y: 60 }, 3));
    await settle(r, 4);
    expect(r.seen.ask.at(-1)).toMatchObject({ questions: 1, ok: true });
    expect(r.seen.evaluation.slice(-2).map((e) => [e.rule, e.gated])).toEqual(expect.arrayContaining([['red', true], ['blue', false]]));
    // A moved square is a changed frame: asked again.
    r.loop.push(await frame('a', T0 + 2000, { x: 150, y: 60 }, 4));
    await settle(r, 5);
    expect(r.seen.frame.at(-1)!.outcome).toBe('asked');
  });

  it('closes open events when their rule changes or goes, and on close() with shutdown', async () => {
    const r = await start();
    await r.loop.setRules([rule({ id: 'red' }), rule({ id: 'square', question: 'square' }), rule({ id: 'any', question: 'shapes' })]);
    r.loop.push(await frame('a', T0, { x: 50, y: 60 }));
    await settle(r, 1);
    expect(r.seen.event.filter((m) => m.type === 'opened')).toHaveLength(3);
    await r.loop.setRules([rule({ id: 'red', question: 'red block' }, 2), rule({ id: 'any', question: 'shapes' })]);
    const closed = (reason: string) => r.seen.event.filter((m): m is EventMessage => m.type === 'closed' && m.event.closeReason === reason).map((m) => m.event.rule);
    expect(closed('rule-changed')).toEqual(['red']);
    expect(closed('rule-removed')).toEqual(['square']);
    await r.loop.close();
    expect(closed('shutdown')).toEqual(['any']);
    expect((await r.store.events.list({ state: 'open' })).events).toEqual([]);
  });

  it('an open event deleted by an operator: the loop lets go of it without errors, and the next appearance opens a new one', async () => {
    const lines: string[] = [];
    const r = await start({}, { log: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }) });
    await r.loop.setRules([rule({ id: 'red' })]);
    const opened = () => r.seen.event.filter((m) => m.type === 'opened').map((m) => m.event.id);
    r.loop.push(await frame('a', T0, { x: 50, y: 60 }, 0));
    await settle(r, 1);
    const [first] = opened();
    expect(await r.store.events.delete(first!)).toBe(true);
    r.loop.push(await frame('a', T0 + 1000, { x: 50, y: 60 }, 1));
    r.loop.push(await frame('a', T0 + 2000, null, 2)); // the condition ends: the deleted event's close finds nothing
    await settle(r, 3);
    expect(opened()).toEqual([first]);
    r.loop.push(await frame('a', T0 + 3000, { x: 120, y: 60 }, 3));
    await settle(r, 4);
    expect(opened()).toHaveLength(2);
    expect((await r.store.events.list({})).events.map((e) => e.id)).toEqual([opened()[1]]);
    const levels = lines.map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(levels.filter((l) => l.level >= 50)).toEqual([]);
    expect(levels.map((l) => l.msg)).toContain('open event deleted; its condition is followed without an event until it ends');
  });

  it('test() answers a rule on a frame with an annotated picture, touching no state, store or live message', async () => {
    const r = await start();
    await r.loop.setRules([rule({ id: 'red', trigger: { n: 2, of: 3 } })]);
    const f = await frame('a', T0, { x: 50, y: 60 });
    const res = await r.loop.test(rule({ id: 'try', question: 'red square' }).rule, f);
    expect(res).toMatchObject({ positive: true, outcome: 'positive', count: 1 });
    expect(res.prompt).toContain('red square');
    expect(res.raw).toContain('bbox_2d');
    expect((await sharp(res.annotated).metadata()).format).toBe('jpeg');
    const yes = await r.loop.test(rule({ id: 'q', kind: 'yesno', question: 'Is there a blue square?', trigger: { n: 1, of: 1 } }).rule, f);
    expect(yes).toMatchObject({ positive: false, outcome: 'negative', answer: 'no' });
    expect(r.seen.evaluation).toEqual([]);
    expect(r.seen.detections).toEqual([]);
    expect(await r.store.events.evaluationsBetween('a', T0 - 1, T0 + 1)).toEqual([]);
    expect(r.loop.latest('a')).toBeNull();
  });

  it('sends a clip rule its frames spacing apart, newest last, in an ask of its own', async () => {
    const r = await start();
    await r.loop.setRules([rule({ id: 'red' }), rule({ id: 'moving', kind: 'yesno', question: 'Is a red square moving?', clip: { frames: 3, spacing: 1 } })]);
    for (let i = 0; i < 6; i++) {
      r.loop.push(await frame('a', T0 + i * 500, { x: 20 + i * 20, y: 60 }, i));
      await settle(r, i + 1);
    }
    const clipAsks = r.judge.requests.filter((q) => q.images.length > 1);
    // History spans 2 s from the 5th frame (pdt 2000 ms) on: frames at 0, 1000, 2000, then 500, 1500, 2500.
    expect(clipAsks.map((q) => q.images.length)).toEqual([3, 3]);
    expect(r.seen.ask.filter((a) => a.questions === 1).length).toBeGreaterThanOrEqual(2);
    const moving = r.seen.evaluation.filter((e) => e.rule === 'moving');
    expect(moving.map((e) => e.pdt - T0)).toEqual([2000, 2500]);
  });

  it('records evaluations as skipped (engine-down) while the engine is closed, and opens nothing', async () => {
    const r = await start();
    await r.engine.close();
    await r.loop.setRules([rule({ id: 'red' })]);
    r.loop.push(await frame('a', T0, { x: 50, y: 60 }));
    await settle(r, 1);
    expect(r.seen.evaluation.map((e) => [e.outcome, e.reason])).toEqual([['skipped', 'engine-down']]);
    expect(r.seen.detections[0]).toMatchObject({ outcome: 'skipped', positive: false });
    expect(r.seen.event).toEqual([]);
  });

  it('records an ask the engine failed while up (too slow for its timeout) as an error with the code, not as engine-down', async () => {
    const r = await start({}, { judgeDelay: 2500, timeout: 1 });
    await r.loop.setRules([rule({ id: 'red' })]);
    r.loop.push(await frame('a', T0, { x: 50, y: 60 }));
    await settle(r, 1);
    expect(r.engine.state).toBe('ready');
    expect(r.seen.evaluation.map((e) => [e.outcome, e.reason])).toEqual([['error', 'TIMEOUT']]);
    expect(r.seen.ask).toMatchObject([{ ok: false, code: 'TIMEOUT' }]);
    expect(r.seen.event).toEqual([]);
  });
});
