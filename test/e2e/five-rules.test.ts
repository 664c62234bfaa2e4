// The end-to-end check on the local engine: Vigil started as a new user would (`vigil serve --config`
// as a child process) with one camera, five rules of five kinds and engine.local.model/mmproj pointing at a
// generated random-weight Qwen2.5-VL pair. Every rule is evaluated on the camera through the rules loop, all
// five from the same frame in one engine ask (one image encode: the stored evaluations of a frame share one
// encode measurement). With random weights an answer may be
// positive, negative or an error (a grammar-shaped answer cut at the token cap): all prove an evaluation
// happened; what must not happen is a rule left out or a skip.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import Database from 'better-sqlite3';
import type { AnswerTimings } from '../../pipelines/engine/types.ts';
import type { StreamMessage } from '../../server/wire.ts';
import type { RuleInput } from '../../config/schema.ts';
import { tinyPair } from '../engine/helpers.ts';
import { poll, startVigil, type VigilProcess } from '../support/vigil-process.ts';

const RULES: RuleInput[] = [
  { id: 'riders', kind: 'detect', question: 'motorcycle riders', attributes: ['helmet:boolean'] },
  { id: 'heads', kind: 'point', question: 'heads of people' },
  { id: 'cars', kind: 'count', question: 'cars', condition: { op: '>=', value: 2 } },
  { id: 'fallen', kind: 'yesno', question: 'Is a person lying on the floor?' },
  { id: 'scene', kind: 'describe', question: 'Describe the scene in one sentence.', condition: { contains: ['fire'] } },
];

type Detection = Extract<StreamMessage, { type: 'detections' }>;
type Row = { rule: string; pdt: number; timings: string | null };

describe('the local engine on the generated random-weight pair runs five rules on one camera end to end', { timeout: 240_000 }, () => {
  let dir: string;
  let vigil: VigilProcess;
  let ws: WebSocket;
  const detections: Detection[] = [];

  beforeAll(async () => {
    const pair = tinyPair('five-rules');
    dir = mkdtempSync(join(tmpdir(), 'vigil-five-rules-'));
    vigil = await startVigil(dir, {
      cameras: [{ id: 'cam', source: 'testsrc', sampleInterval: 1 }],
      // Small frames and answers keep the CPU-only random model quick; the gate is off so every frame is asked.
      engine: { maxPixels: 448 * 448, local: { model: pair.model, mmproj: pair.mmproj, gpu: 'cpu', threads: 1, contextSize: 2048, maxAnswerTokens: 96 } },
      analysis: { changeThreshold: 0, maxFrameAge: 60 },
      rules: RULES,
    });
    ws = new WebSocket(`${vigil.url.replace('http', 'ws')}api/stream?camera=cam`);
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as StreamMessage;
      if (m.type === 'detections') detections.push(m);
    });
    await new Promise((r, j) => ws.once('open', r).once('error', j));
  });
  afterAll(async () => {
    ws?.close();
    await vigil?.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('evaluates all five rules on the same frames, through the loop, from the engine', async () => {
    const health = await poll(async () => {
      const h = await vigil.health();
      return h.engine.state === 'ready' ? h : null;
    }, 120_000, 'the engine to be ready');
    expect(health.engine).toMatchObject({ kind: 'local', model: 'tiny-qwen2.5-vl.gguf' });

    // Frames on which every rule was asked by the model (not repeated by the change gate, not skipped): two,
    // so the loop is seen going on.
    const fullFrames = await poll(async () => {
      const byPdt = new Map<number, Detection[]>();
      for (const d of detections.filter((x) => !x.gated && x.outcome !== 'skipped')) byPdt.set(d.pdt, [...(byPdt.get(d.pdt) ?? []), d]);
      const done = [...byPdt.values()].filter((ds) => new Set(ds.map((d) => d.rule)).size === RULES.length);
      return done.length >= 2 ? done : null;
    }, 180_000, 'two frames with an evaluation of every rule');
    const full = fullFrames[0]!;
    expect(full.map((d) => d.rule).sort()).toEqual(RULES.map((r) => r.id).sort());
    for (const d of full) {
      expect(d.camera).toBe('cam');
      expect(['positive', 'negative', 'error']).toContain(d.outcome);
      expect(d.positive).toBe(d.outcome === 'positive');
      expect(d.sourceW).toBeGreaterThan(0);
    }
    // One frame, one run: the five answers came from the same picture.
    expect(new Set(full.map((d) => `${d.run}/${d.pdt}`)).size).toBe(1);
    // The server stays up and the camera live while the loop runs.
    const cams = (await (await fetch(new URL('/api/cameras', vigil.url))).json()) as { id: string; state: string }[];
    expect(cams.find((c) => c.id === 'cam')?.state).toBe('live');

    // A clean stop writes every evaluation it held back. In the store, each frame the model saw carries all five
    // rules, and their answers share one image encode: the encode time is per ask, so five separate asks would
    // show five different measurements.
    expect(await vigil.stop('SIGTERM')).toBe(0);
    const db = new Database(join(dir, 'data', 'vigil.sqlite'), { readonly: true });
    try {
      const rows = db.prepare("SELECT rule, pdt, timings FROM evaluations WHERE camera = 'cam' AND gated = 0 AND outcome != 'skipped'").all() as Row[];
      const byPdt = new Map<number, Row[]>();
      for (const r of rows) byPdt.set(r.pdt, [...(byPdt.get(r.pdt) ?? []), r]);
      for (const f of fullFrames) expect(byPdt.get(f[0]!.pdt)?.length).toBe(RULES.length);
      for (const [pdt, evals] of byPdt) {
        expect(evals.map((e) => e.rule).sort(), `rules asked on the frame at ${pdt}`).toEqual(RULES.map((r) => r.id).sort());
        const encodes = new Set(evals.map((e) => (JSON.parse(e.timings!) as AnswerTimings).encodeMs));
        expect(encodes.size, `image encodes for the frame at ${pdt}`).toBe(1);
        expect([...encodes][0]).toBeGreaterThan(0);
      }
    } finally {
      db.close();
    }
  });
});
