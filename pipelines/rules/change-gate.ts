// Change gate: skips the model for a camera frame that is nearly identical to the last frame the model was asked
// about. A frame becomes a small grey thumbnail (sharp shrinks the JPEG while decoding, so a 1080p frame costs
// about a millisecond); the difference is the mean absolute difference (0-255) over the thumbnail's most-changed
// 8x8 region. A frame-wide mean would hide a small object (a person far away moves it by a fraction of a level),
// while per-region means still average sensor and compression noise away.
// The reference is the last ACCEPTED frame, not the last checked one, so a slow drift adds up and is caught.
import sharp from 'sharp';

export type GateReason = 'first' | 'changed' | 'forced' | 'unchanged' | 'off';

export interface GateDecision {
  ask: boolean;
  /** Against the reference frame; null when there is none to compare with (first, off, unreadable, size changed). */
  diff: number | null;
  reason: GateReason;
}

/** Thumbnail width: at 160 px a 40 px object in a 1080p frame still covers about 3x3 thumbnail pixels. */
export const THUMB_WIDTH = 160;
/** Side of the square region the difference is averaged over, in thumbnail pixels. */
export const REGION = 8;

interface Thumb {
  data: Uint8Array;
  width: number;
  height: number;
}

interface CameraGate {
  reference: Thumb | null;
  referencePdt: number | null;
  /** Thumbnails of the latest checked frames by pdt, so accept() need not decode again (checks may overlap). */
  checked: Map<number, Thumb | null>;
}

/** Checked frames remembered per camera for accept(): enough for the few asks a camera has in flight. */
const KEEP_CHECKED = 4;

export class ChangeGate {
  readonly #threshold: number;
  readonly #forceMs: number;
  readonly #cameras = new Map<string, CameraGate>();

  constructor(opts: { threshold: number; forceEverySec: number }) {
    this.#threshold = opts.threshold;
    this.#forceMs = opts.forceEverySec * 1000;
  }

  /** Must this camera's frame go to the model? diff: mean absolute difference (0-255) against the last frame that was asked. */
  async check(camera: string, jpeg: Buffer, pdt: number): Promise<GateDecision> {
    if (this.#threshold === 0) return { ask: true, diff: null, reason: 'off' };
    const cam = this.#camera(camera);
    // An unreadable frame is asked anyway: the engine reports what is wrong with it better than a skip would.
    const thumb = await thumbnail(jpeg).catch(() => null);
    remember(cam.checked, pdt, thumb);
    const ref = cam.reference;
    if (!ref || cam.referencePdt === null) return { ask: true, diff: null, reason: 'first' };
    if (!thumb || thumb.width !== ref.width || thumb.height !== ref.height) return { ask: true, diff: null, reason: 'changed' };
    const diff = regionDiff(ref, thumb);
    if (diff >= this.#threshold) return { ask: true, diff, reason: 'changed' };
    if (pdt - cam.referencePdt >= this.#forceMs) return { ask: true, diff, reason: 'forced' };
    return { ask: false, diff, reason: 'unchanged' };
  }

  /** Records that the frame was asked (becomes the reference); call only for frames actually sent to the model. */
  accept(camera: string, pdt: number): void {
    const cam = this.#camera(camera);
    // A frame never checked (or long forgotten) has no thumbnail: start over rather than compare with the wrong one.
    cam.reference = cam.checked.get(pdt) ?? null;
    cam.referencePdt = pdt;
  }

  reset(camera: string): void {
    this.#cameras.delete(camera);
  }

  #camera(id: string): CameraGate {
    let cam = this.#cameras.get(id);
    if (!cam) this.#cameras.set(id, (cam = { reference: null, referencePdt: null, checked: new Map() }));
    return cam;
  }
}

function remember(checked: Map<number, Thumb | null>, pdt: number, thumb: Thumb | null): void {
  checked.delete(pdt);
  checked.set(pdt, thumb);
  if (checked.size > KEEP_CHECKED) checked.delete(checked.keys().next().value!);
}

/** Grey thumbnail THUMB_WIDTH wide; sharp uses libjpeg's shrink-on-load, so most of the frame is never decoded in full. */
async function thumbnail(jpeg: Buffer): Promise<Thumb> {
  const { data, info } = await sharp(jpeg).resize({ width: THUMB_WIDTH }).greyscale().raw().toBuffer({ resolveWithObject: true });
  if (info.channels === 1) return { data, width: info.width, height: info.height };
  const grey = new Uint8Array(info.width * info.height);
  for (let i = 0; i < grey.length; i++) grey[i] = data[i * info.channels]!;
  return { data: grey, width: info.width, height: info.height };
}

/** Largest mean absolute difference over any REGION x REGION window, via a summed-area table (one pass). */
export function regionDiff(a: Thumb, b: Thumb): number {
  const { width: w, height: h } = a;
  const r = Math.min(REGION, w, h);
  const sat = new Float64Array((w + 1) * (h + 1));
  for (let y = 0; y < h; y++) {
    let row = 0;
    for (let x = 0; x < w; x++) {
      row += Math.abs(a.data[y * w + x]! - b.data[y * w + x]!);
      sat[(y + 1) * (w + 1) + x + 1] = sat[y * (w + 1) + x + 1]! + row;
    }
  }
  let max = 0;
  for (let y = r; y <= h; y++) {
    for (let x = r; x <= w; x++) {
      const sum = sat[y * (w + 1) + x]! - sat[(y - r) * (w + 1) + x]! - sat[y * (w + 1) + x - r]! + sat[(y - r) * (w + 1) + x - r]!;
      if (sum > max) max = sum;
    }
  }
  return max / (r * r);
}
