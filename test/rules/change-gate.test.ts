// Change gate on real encoded frames: a still scene with sensor noise through H.264 and JPEG is gated, a 40 px
// square appearing is not; forced re-checks, the accepted frame as the reference (slow drift adds up), gate off,
// unreadable frames and size changes are asked.
import { describe, it, expect, beforeAll } from 'vitest';
import sharp from 'sharp';
import { ChangeGate, regionDiff, REGION } from '../../pipelines/rules/change-gate.ts';
import { renderScene, type SceneFrame } from '../support/shape-scene.ts';

// One ffmpeg render for the file: 720p, 2 frames per second, the square appears at t=4 s and moves right.
let frames: SceneFrame[];
beforeAll(async () => {
  frames = await renderScene({ width: 1280, height: 720, seconds: 6, sampleFps: 2, spans: [{ from: 4, to: 6, x: '300+100*(t-4)', y: '500' }] });
}, 120_000);

const still = () => frames.filter((f) => f.pdt < 4000);
const withShape = () => frames.filter((f) => f.pdt >= 4000);

/** A textured frame (diagonal stripes) brightened by `offset` grey levels, as a JPEG. */
async function textured(offset: number, width = 640, height = 360): Promise<Buffer> {
  const px = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) px[y * width + x] = Math.min(255, 60 + (((x + y) >> 4) % 2) * 80 + offset);
  return sharp(px, { raw: { width, height, channels: 1 } }).jpeg({ quality: 90 }).toBuffer();
}

describe('ChangeGate on a still scene and a square appearing', () => {
  it('gates the still frames and asks for the first frame with the square', async () => {
    expect(frames).toHaveLength(12);
    const gate = new ChangeGate({ threshold: 2, forceEverySec: 30 });
    const [first, ...rest] = still();
    expect(await gate.check('cam', first!.jpeg, first!.pdt)).toEqual({ ask: true, diff: null, reason: 'first' });
    gate.accept('cam', first!.pdt);
    for (const f of rest) {
      const d = await gate.check('cam', f.jpeg, f.pdt);
      expect(d, `frame at ${f.pdt} ms`).toMatchObject({ ask: false, reason: 'unchanged' });
      expect(d.diff).toBeLessThan(2);
      expect(d.diff).toBeGreaterThan(0); // noise is there, it just stays under the threshold
    }
    const appears = await gate.check('cam', withShape()[0]!.jpeg, withShape()[0]!.pdt);
    expect(appears.ask).toBe(true);
    expect(appears.reason).toBe('changed');
    expect(appears.diff).toBeGreaterThan(4);
  });

  it('compares with the last accepted frame: a moving square keeps asking, a stopped scene is gated again', async () => {
    const gate = new ChangeGate({ threshold: 2, forceEverySec: 30 });
    const shape = withShape();
    await gate.check('cam', shape[0]!.jpeg, shape[0]!.pdt);
    gate.accept('cam', shape[0]!.pdt);
    // The square moves 50 px between samples: every frame differs from the one before.
    for (const f of shape.slice(1)) {
      const d = await gate.check('cam', f.jpeg, f.pdt);
      expect(d.reason).toBe('changed');
      gate.accept('cam', f.pdt);
    }
    // Same frame again (a frozen camera): unchanged.
    const last = shape.at(-1)!;
    expect((await gate.check('cam', last.jpeg, last.pdt + 500)).reason).toBe('unchanged');
  });

  it('forces a check every forceEverySec of video time on a still scene', async () => {
    const gate = new ChangeGate({ threshold: 2, forceEverySec: 1.5 });
    const reasons: string[] = [];
    for (const f of still()) {
      const d = await gate.check('cam', f.jpeg, f.pdt);
      reasons.push(d.reason);
      if (d.ask) gate.accept('cam', f.pdt);
    }
    expect(reasons).toEqual(['first', 'unchanged', 'unchanged', 'forced', 'unchanged', 'unchanged', 'forced', 'unchanged']);
  });

  it('asks every frame with threshold 0', async () => {
    const gate = new ChangeGate({ threshold: 0, forceEverySec: 30 });
    for (const f of still().slice(0, 3)) {
      expect(await gate.check('cam', f.jpeg, f.pdt)).toEqual({ ask: true, diff: null, reason: 'off' });
      gate.accept('cam', f.pdt);
    }
  });

  it('keeps cameras apart', async () => {
    const gate = new ChangeGate({ threshold: 2, forceEverySec: 30 });
    const [a, b] = still();
    await gate.check('a', a!.jpeg, a!.pdt);
    gate.accept('a', a!.pdt);
    expect((await gate.check('b', b!.jpeg, b!.pdt)).reason).toBe('first');
    expect((await gate.check('a', b!.jpeg, b!.pdt)).reason).toBe('unchanged');
  });
});

describe('ChangeGate reference and failures', () => {
  it('catches a slow drift: the reference is the last accepted frame, not the last checked one', async () => {
    const gate = new ChangeGate({ threshold: 2, forceEverySec: 3600 });
    await gate.check('cam', await textured(0), 0);
    gate.accept('cam', 0);
    const reasons: string[] = [];
    // One grey level brighter per frame: never 2 levels from the previous frame, but from the reference soon.
    for (let k = 1; k <= 4; k++) reasons.push((await gate.check('cam', await textured(k), k * 1000)).reason);
    expect(reasons.slice(0, 1)).toEqual(['unchanged']);
    expect(reasons.at(-1)).toBe('changed');
  });

  it('starts over after reset, and when accept names a frame other than the last checked', async () => {
    const gate = new ChangeGate({ threshold: 2, forceEverySec: 30 });
    const jpeg = await textured(0);
    await gate.check('cam', jpeg, 0);
    gate.accept('cam', 0);
    expect((await gate.check('cam', jpeg, 1000)).reason).toBe('unchanged');
    gate.reset('cam');
    expect((await gate.check('cam', jpeg, 2000)).reason).toBe('first');
    gate.accept('cam', 1500); // not the frame just checked: its thumbnail is unknown
    expect((await gate.check('cam', jpeg, 3000)).reason).toBe('first');
  });

  it('accepts a frame whose check overlapped a later one', async () => {
    const gate = new ChangeGate({ threshold: 2, forceEverySec: 30 });
    const dark = await textured(0);
    const bright = await textured(40);
    await Promise.all([gate.check('cam', dark, 1000), gate.check('cam', bright, 2000)]);
    gate.accept('cam', 1000); // the reference is the dark frame, not the bright one checked last
    expect((await gate.check('cam', dark, 3000)).reason).toBe('unchanged');
    expect((await gate.check('cam', bright, 4000)).reason).toBe('changed');
  });

  it('asks an unreadable frame and a frame of another size, with no diff', async () => {
    const gate = new ChangeGate({ threshold: 2, forceEverySec: 30 });
    await gate.check('cam', await textured(0), 0);
    gate.accept('cam', 0);
    expect(await gate.check('cam', Buffer.from('not a jpeg'), 1000)).toEqual({ ask: true, diff: null, reason: 'changed' });
    expect(await gate.check('cam', await textured(0, 640, 480), 2000)).toEqual({ ask: true, diff: null, reason: 'changed' });
  });
});

describe('regionDiff', () => {
  it('reports the most-changed region, so a small change is not averaged away by the frame', () => {
    const w = 160;
    const h = 90;
    const a = { data: new Uint8Array(w * h).fill(100), width: w, height: h };
    const b = { data: Uint8Array.from(a.data), width: w, height: h };
    for (let y = 40; y < 40 + REGION; y++) for (let x = 70; x < 70 + REGION; x++) b.data[y * w + x] = 140;
    expect(regionDiff(a, b)).toBe(40);
    expect(regionDiff(a, a)).toBe(0);
    // The same 8x8 change is worth under 0.2 levels over the whole frame.
    expect((40 * REGION * REGION) / (w * h)).toBeLessThan(0.2);
  });
});
