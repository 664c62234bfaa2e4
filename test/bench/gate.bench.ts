// Change gate: what it costs per frame, how many model calls it saves on a still scene, and whether it loses an
// event on a scene where a red square appears, moves, stands still and leaves. Frames are real: ffmpeg renders
// the scene, encodes it to H.264 and samples JPEGs (test/support/shape-scene.ts). A pixel detector (red pixels)
// stands in for the model; RuleState runs with and without the gate, and a gated frame repeats the outcome of the
// last asked one, as the loop does. Figures and ratios only, no pass/fail timings.
import sharp from 'sharp';
import { ChangeGate } from '../../pipelines/rules/change-gate.ts';
import { RuleState } from '../../pipelines/rules/rule-state.ts';
import { RuleSchema } from '../../config/rule.ts';
import type { StateChange } from '../../pipelines/rules/types.ts';
import { renderScene, type SceneFrame, type ShapeSpan } from '../support/shape-scene.ts';

const THRESHOLD = 2; // the config default (analysis.changeThreshold)
const FORCE_EVERY = 30; // the config default (analysis.forceEvery)

export async function run(): Promise<void> {
  await cost();
  await stillScene(1920, 1080, 10);
  await stillScene(1280, 720, 20);
  await shapeScene();
}

/** Cost of one check on a 1080p frame against a full decode of it; rounds alternate and the fastest counts, so a busy machine skews both alike. */
async function cost(): Promise<void> {
  const [frame] = await renderScene({ width: 1920, height: 1080, seconds: 1, sampleFps: 1 });
  const jpeg = frame!.jpeg;
  const gate = new ChangeGate({ threshold: THRESHOLD, forceEverySec: FORCE_EVERY });
  await gate.check('cam', jpeg, 0);
  gate.accept('cam', 0);
  let pdt = 0;
  sharp.cache(false); // the same JPEG again and again must not be answered from libvips' operation cache
  try {
    let decode = Infinity;
    let check = Infinity;
    for (let round = 0; round < 5; round++) {
      decode = Math.min(decode, await timeAsync(() => sharp(jpeg).raw().toBuffer()));
      check = Math.min(check, await timeAsync(() => gate.check('cam', jpeg, (pdt += 1))));
    }
    console.log(`baseline: sharp full decode of a 1080p JPEG   ${decode.toFixed(2)} ms`);
    console.log(`ChangeGate.check on the same frame            ${check.toFixed(2)} ms (${(check / decode).toFixed(2)}x the full decode)`);
  } finally {
    sharp.cache(true);
  }
}

/** A still scene with sensor noise: the share of frames that skip the model (target: at least 90%). */
async function stillScene(width: number, height: number, noise: number): Promise<void> {
  const frames = await renderScene({ width, height, seconds: 120, sampleFps: 1, videoFps: 5, noise });
  const gate = new ChangeGate({ threshold: THRESHOLD, forceEverySec: FORCE_EVERY });
  const reasons = new Map<string, number>();
  let maxDiff = 0;
  for (const f of frames) {
    const d = await gate.check('cam', f.jpeg, f.pdt);
    reasons.set(d.reason, (reasons.get(d.reason) ?? 0) + 1);
    maxDiff = Math.max(maxDiff, d.diff ?? 0);
    if (d.ask) gate.accept('cam', f.pdt);
  }
  const skipped = reasons.get('unchanged') ?? 0;
  const share = (100 * skipped) / frames.length;
  console.log(
    `still ${width}x${height}, noise ${noise}, ${frames.length} frames at 1/s: ${share.toFixed(1)}% of model calls skipped (target >= 90%) ${share >= 90 ? 'OK' : 'MISSED'};` +
      ` reasons ${JSON.stringify(Object.fromEntries(reasons))}, largest diff ${maxDiff.toFixed(2)} (threshold ${THRESHOLD})`,
  );
}

// Absent, moving right, standing, absent, standing elsewhere (appears on a still scene), absent, a short visit.
const SPANS: ShapeSpan[] = [
  { from: 10, to: 40, x: '100+25*(t-10)', y: '300' },
  { from: 40, to: 60, x: '850', y: '300' },
  { from: 80, to: 100, x: '400', y: '500' },
  { from: 130, to: 134, x: '1000', y: '100' },
];

async function shapeScene(): Promise<void> {
  const frames = await renderScene({ width: 1280, height: 720, seconds: 150, sampleFps: 1, videoFps: 5, spans: SPANS });
  const outcomes = await Promise.all(frames.map((f) => detectRed(f.jpeg)));
  // cooldown 10 s so the later visits can open events of their own; the rest are the rule defaults.
  const rule = RuleSchema.parse({ id: 'red', kind: 'detect', question: 'red square', cooldown: 10 });
  const plain = replay(frames, outcomes, new RuleState(rule), frames.map(() => true));
  const gated = replay(frames, outcomes, new RuleState(rule), await gateDecisions(frames, new ChangeGate({ threshold: THRESHOLD, forceEverySec: FORCE_EVERY })));
  const truth = SPANS.map((s) => `${s.from}-${s.to}`).join(', ');
  console.log(`moving shape 1280x720, ${frames.length} frames at 1/s; square visible (s): ${truth}`);
  console.log(`  detector positives: ${outcomes.filter((o) => o.positive).length} frames`);
  console.log(`  without gate: ${plain.asked} model calls, events ${describe(plain.events)}`);
  console.log(`  with gate:    ${gated.asked} model calls (${((100 * (frames.length - gated.asked)) / frames.length).toFixed(1)}% skipped), events ${describe(gated.events)}`);
  const missed = plain.events.filter((e) => !gated.events.some((g) => overlaps(e, g)));
  const extra = gated.events.filter((g) => !plain.events.some((e) => overlaps(e, g)));
  const shift = Math.max(0, ...plain.events.flatMap((e) => gated.events.filter((g) => overlaps(e, g)).map((g) => Math.max(Math.abs(g.start - e.start), Math.abs((g.end ?? 0) - (e.end ?? 0))))));
  console.log(`  events missed with the gate: ${missed.length} (target 0) ${missed.length === 0 ? 'OK' : 'MISSED'}; extra: ${extra.length}; largest start/end shift: ${(shift / 1000).toFixed(0)} s`);
}

interface Outcome {
  positive: boolean;
  count: number;
}
interface EventSpan {
  start: number;
  end: number | null;
}

/** The model stand-in: red pixels on a 320 px wide decode (the scene itself is grey). */
async function detectRed(jpeg: Buffer): Promise<Outcome> {
  const { data, info } = await sharp(jpeg).resize({ width: 320 }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let red = 0;
  for (let i = 0; i < data.length; i += info.channels) if (data[i]! > 150 && data[i + 1]! < 100 && data[i + 2]! < 100) red++;
  return red >= 20 ? { positive: true, count: 1 } : { positive: false, count: 0 };
}

/** Runs the rule state over the frames; a frame not asked repeats the last asked outcome, as the loop does. */
function replay(frames: SceneFrame[], outcomes: Outcome[], state: RuleState, asks: boolean[]): { asked: number; events: EventSpan[] } {
  const changes: StateChange[] = [];
  let asked = 0;
  let last: Outcome = { positive: false, count: 0 };
  frames.forEach((f, i) => {
    if (asks[i]) {
      asked++;
      last = outcomes[i]!;
    }
    changes.push(...state.observe({ pdt: f.pdt, ...last }));
  });
  return { asked, events: toEvents(changes) };
}

/** The gate's ask or skip per frame, accepting every frame it asks for. */
async function gateDecisions(frames: SceneFrame[], gate: ChangeGate): Promise<boolean[]> {
  const asks: boolean[] = [];
  for (const f of frames) {
    const d = await gate.check('cam', f.jpeg, f.pdt);
    if (d.ask) gate.accept('cam', f.pdt);
    asks.push(d.ask);
  }
  return asks;
}

function toEvents(changes: StateChange[]): EventSpan[] {
  const events: EventSpan[] = [];
  for (const c of changes) {
    if (c.type === 'opened') events.push({ start: c.pdt, end: null });
    if (c.type === 'closed') events.at(-1)!.end = c.pdt;
  }
  return events;
}

const overlaps = (a: EventSpan, b: EventSpan) => a.start <= (b.end ?? Infinity) && b.start <= (a.end ?? Infinity);
const describe = (es: EventSpan[]) => es.map((e) => `${e.start / 1000}-${e.end === null ? 'open' : e.end / 1000}`).join(', ') || 'none';

async function timeAsync(fn: () => Promise<unknown>, n = 10): Promise<number> {
  await fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return (performance.now() - t0) / n;
}
