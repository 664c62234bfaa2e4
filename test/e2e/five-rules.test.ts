// The end-to-end check on the local engine: Vigil started as a new user would (`vigil serve --config`
// as a child process) with one camera, five rules of five kinds and engine.local.model/mmproj pointing at a
// generated random-weight Qwen2.5-VL pair. Every rule is evaluated on the camera through the rules loop, all
// five from the same frame in one engine ask (one image encode). With random weights an answer may be
// positive, negative or an error (a grammar-shaped answer cut at the token cap): all prove an evaluation
// happened; what must not happen is a rule left out or a skip.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
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

    // A frame on which every rule was asked by the model (not repeated by the change gate, not skipped).
    const full = await poll(async () => {
      const byPdt = new Map<number, Detection[]>();
      for (const d of detections.filter((x) => !x.gated && x.outcome !== 'skipped')) byPdt.set(d.pdt, [...(byPdt.get(d.pdt) ?? []), d]);
      return [...byPdt.values()].find((ds) => new Set(ds.map((d) => d.rule)).size === RULES.length);
    }, 180_000, 'one frame with an evaluation of every rule');
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
  });
});
