// The overlay's choice of what to draw over a displayed frame (exact result, else the newest earlier one with
// its age), the source-to-screen mapping, the open-events merge and the engine banner's wording. The browser
// test (dashboard-rules.test.ts) proves them end to end.
import { describe, expect, it } from 'vitest';
import { ageLabel, DetectionBuffer } from '../../client/src/detections.ts';
import { attributeText, ruleColour, sourceToRect } from '../../client/src/draw-detections.ts';
import { containRect } from '../../client/src/overlay.ts';
import { AlertStore } from '../../client/src/alerts.ts';
import { titleWithCount } from '../../client/src/alerts-view.ts';
import { engineNotice } from '../../client/src/engine-banner.ts';
import type { DetectionMessage, EventInfo } from '../../server/wire.ts';

const FRAME = 1000 / 30;
const T = 1_750_000_000_000;

function det(rule: string, pdt: number, over: Partial<DetectionMessage> = {}): DetectionMessage {
  return {
    camera: 'cam',
    run: 1,
    pdt,
    rule,
    outcome: 'positive',
    positive: true,
    gated: false,
    boxes: [{ label: 'shape', x1: 10, y1: 20, x2: 30, y2: 40, attributes: {} }],
    points: [],
    count: 1,
    answer: null,
    sourceW: 1920,
    sourceH: 1080,
    ...over,
  };
}

describe('DetectionBuffer.forFrame', () => {
  it('draws a result exactly on the frame it was computed on (within half a frame interval)', () => {
    const b = new DetectionBuffer();
    b.push(det('red', T));
    b.push(det('red', T + 1000));
    const shown = b.forFrame('cam', 1, T + 1000 + FRAME / 2 - 1, FRAME);
    expect(shown).toHaveLength(1);
    expect(shown[0]!.exact).toBe(true);
    expect(shown[0]!.msg.pdt).toBe(T + 1000);
  });

  it('otherwise holds the newest earlier result, with its age, never a later one', () => {
    const b = new DetectionBuffer();
    b.push(det('red', T));
    b.push(det('red', T + 1000));
    b.push(det('red', T + 2000));
    const [s] = b.forFrame('cam', 1, T + 1700, FRAME);
    expect(s).toMatchObject({ exact: false, ageMs: 700 });
    expect(s!.msg.pdt).toBe(T + 1000);
    expect(ageLabel(s!.ageMs)).toBe('0.7 s old');
    // Before the first result there is nothing to draw.
    expect(b.forFrame('cam', 1, T - 100, FRAME)).toEqual([]);
  });

  it('keeps one result per rule, each chosen on its own, whatever order they arrived in', () => {
    const b = new DetectionBuffer();
    b.push(det('blue', T + 990));
    b.push(det('red', T + 1000));
    b.push(det('red', T)); // late arrival of an older result
    const shown = b.forFrame('cam', 1, T + 1000, FRAME);
    const byRule = Object.fromEntries(shown.map((s) => [s.msg.rule, s]));
    expect(byRule.red).toMatchObject({ exact: true, ageMs: 0 });
    expect(byRule.blue).toMatchObject({ exact: true, ageMs: 10 });
    expect(b.forFrame('cam', 1, T + 500, FRAME).map((s) => [s.msg.rule, s.msg.pdt])).toEqual([['red', T]]);
  });

  it('lets a newer negative replace an older positive, and ignores skipped and failed evaluations', () => {
    const b = new DetectionBuffer();
    b.push(det('red', T));
    b.push(det('red', T + 1000, { outcome: 'negative', positive: false, boxes: [] }));
    b.push(det('red', T + 2000, { outcome: 'skipped', positive: false, boxes: [] }));
    b.push(det('red', T + 3000, { outcome: 'error', positive: false, boxes: [] }));
    const [s] = b.forFrame('cam', 1, T + 3500, FRAME);
    expect(s!.msg.outcome).toBe('negative');
    expect(s!.ageMs).toBe(2500);
  });

  it('drops results older than maxAgeMs and results of another run', () => {
    const b = new DetectionBuffer({ maxAgeMs: 5000 });
    b.push(det('red', T));
    expect(b.forFrame('cam', 1, T + 5001, FRAME)).toEqual([]);
    expect(b.forFrame('cam', 2, T + 10, FRAME)).toEqual([]);
    b.push(det('red', T + 100, { run: 2 }));
    b.push(det('red', T + 200, { run: 1 })); // a straggler of the old run after the new one began
    expect(b.forFrame('cam', 1, T + 200, FRAME)).toEqual([]);
    expect(b.forFrame('cam', 2, T + 200, FRAME).map((s) => s.msg.pdt)).toEqual([T + 100]);
  });

  it('keeps at most `capacity` results per camera, dropping the oldest', () => {
    const b = new DetectionBuffer({ capacity: 3 });
    for (let i = 0; i < 5; i++) b.push(det('red', T + i * 100));
    expect(b.forFrame('cam', 1, T + 100, FRAME)).toEqual([]);
    expect(b.forFrame('cam', 1, T + 200, FRAME)[0]!.exact).toBe(true);
  });
});

describe('drawing helpers', () => {
  it('maps source pixels into the letterboxed picture rectangle', () => {
    // A 1920x1080 source shown in a 1000x1000 element: pillarboxed 1000x562.5 at y 218.75.
    const map = sourceToRect(containRect(1000, 1000, 1920, 1080), 1920, 1080);
    const near = ([x, y]: [number, number], ex: number, ey: number) => {
      expect(x).toBeCloseTo(ex, 9);
      expect(y).toBeCloseTo(ey, 9);
    };
    near(map(0, 0), 0, 218.75);
    near(map(1920, 1080), 1000, 781.25);
    near(map(960, 540), 500, 500);
  });
  it('gives each rule one stable colour and writes attributes as name=value', () => {
    expect(ruleColour('no-helmet')).toBe(ruleColour('no-helmet'));
    expect(attributeText({ helmet: false, colour: 'red' })).toBe('helmet=false colour=red');
    expect(attributeText(undefined)).toBe('');
  });
});

describe('AlertStore', () => {
  const ev = (id: string, over: Partial<EventInfo> = {}) => ({ id, camera: 'cam', rule: 'r', ruleName: 'R', severity: 'alert', state: 'open', startPdt: T, ...over }) as EventInfo;

  it('counts open alerts from live messages, and says which message opened a new one', () => {
    const s = new AlertStore();
    expect(s.apply({ type: 'opened', event: ev('a') })).toBe(true);
    expect(s.apply({ type: 'updated', event: ev('a', { peak: 2 }) })).toBe(false);
    s.apply({ type: 'opened', event: ev('b', { severity: 'detection', startPdt: T + 5 }) });
    expect(s.list().map((e) => e.id)).toEqual(['b', 'a']);
    expect(s.alertCount()).toBe(1);
    s.apply({ type: 'closed', event: ev('a', { state: 'closed' }) });
    expect(s.alertCount()).toBe(0);
    expect(titleWithCount(s.alertCount())).toBe('Vigil');
    expect(titleWithCount(2)).toBe('(2) Vigil');
  });

  it('merges a fetch of open events without undoing what changed live while it was in flight', () => {
    const s = new AlertStore();
    s.apply({ type: 'opened', event: ev('stale') });
    const mark = s.mark();
    s.apply({ type: 'closed', event: ev('x', { state: 'closed' }) }); // closed live during the fetch
    s.apply({ type: 'opened', event: ev('new') }); // opened live during the fetch
    s.replace([ev('x'), ev('kept')], mark);
    // 'stale' closed while disconnected (absent from the fetch); 'x' stays closed; 'new' stays open.
    expect(s.list().map((e) => e.id).sort()).toEqual(['kept', 'new']);
    // An older fetch answering after a newer one is ignored.
    s.replace([ev('stale')], mark - 1);
    expect(s.list().map((e) => e.id).sort()).toEqual(['kept', 'new']);
  });
});

describe('engineNotice', () => {
  it('is hidden when the engine is ready or absent', () => {
    expect(engineNotice({ state: 'ready' })).toBeNull();
    expect(engineNotice({ state: 'none' })).toBeNull();
  });
  it('shows download progress while pulling', () => {
    const n = engineNotice({ state: 'pulling', pull: { file: 'model.gguf', bytes: 512 * 1024 * 1024, total: 2048 * 1024 * 1024 } });
    expect(n).toMatchObject({ level: 'info', progress: 0.25 });
    expect(n!.title).toBe('Downloading the vision model model.gguf: 512 MB of 2.00 GB (25%)');
  });
  it('says what failed and exactly what to do', () => {
    const n = engineNotice({ state: 'failed', error: { code: 'MODEL_MISSING', message: 'no model file and no network', hint: 'run `vigil models pull` on a machine with network' } });
    expect(n).toMatchObject({ level: 'error', title: 'Vision engine failed: no model file and no network', detail: 'run `vigil models pull` on a machine with network' });
  });
  it('says a restart is under way', () => {
    expect(engineNotice({ state: 'restarting' })).toMatchObject({ level: 'warn', title: 'Vision engine restarting' });
  });
});
