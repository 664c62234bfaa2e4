// A real camera whose scene a test can judge: one coloured shape on a plain background that appears, moves along a
// path and disappears on a script, with the ground truth available as a function of the camera's own clock.
// It is the test RTSP camera (rtsp.ts: ffmpeg feed relayed by gst-rtsp-server, keeps encoding while clients come
// and go, clients join mid-GOP, both barcodes burned in), with the picture replaced by the scene.
//
//   const cam = await startShapeCamera({ colour: 'red', shape: 'square', size: 80,
//     timeline: { visible: [{ from: 2000, to: 6000 }, { from: 9000 }], path: [{ at: 2000, x: 60, y: 120 }, { at: 6000, x: 460, y: 120 }] } });
//   cam.url                     rtsp://127.0.0.1:<port>/cam
//   cam.origin                  Unix ms the timeline counts from (default: when startShapeCamera was called; pass
//                               `origin: Date.now() + 8000` to start the script once the system under test is up:
//                               before the origin the shape is absent)
//   cam.shapeAt(clockMs)        {x1, y1, x2, y2} in source pixels (x2/y2 are edges: 80 px at 100 -> 100..180) or null
//                               when absent; clockMs is the frame's burned wall clock (readClock in barcode.ts)
//   await cam.truthOf(jpeg)     {clock, box}: reads the burned clock of a frame (any size: a sampled, scaled or stored
//                               frame) and gives shapeAt for it, in SOURCE pixels (Vigil's stored boxes are too)
//   cam.server                  the TestRtspServer (kill/restart/freeze/thaw like any test camera)
//   await cam.close()           idempotent
//
// Timeline (`timeline`, times in ms since `origin`):
//   visible      intervals [from, to) during which the shape is in the picture (`to` omitted: for good);
//                shorthand: appearAt / disappearAt for one interval [default: always visible]
//   path         waypoints {at, x, y}: the shape's top-left corner in source pixels, moved linearly between
//                waypoints, held before the first and after the last [default: left to right and back, 8 s]
//   loopMs       the timeline repeats with this period (times are taken modulo loopMs) [none; default path: 8000]
// The path must keep the shape inside the picture and below the two barcode bands (the top 20%).
//
// How it stays exact: the shape is overlaid in the feed's filter chain while each frame's timestamp is the wall
// clock (RTCTIME) that the clock band then burns (one reading per frame), so position and burned clock agree;
// overlay puts the corner on even pixels (yuv420), and shapeAt does the same. The background (`background`, a plain
// ffmpeg colour, default 0x404040) is static: only the shape and the barcodes change.
import sharp from 'sharp';
import { startRtspServer, type RtspFeedOptions, type TestRtspServer } from './rtsp.ts';
import { readClock } from './barcode.ts';

/** Colours the camera draws, chosen well inside the vision judge's hue ranges (colour-blobs.ts). */
export const CAMERA_COLOURS = Object.freeze({ red: 0xdc1e1e, green: 0x1eb43c, blue: 0x1e3cdc, yellow: 0xf0dc14, orange: 0xf08214, magenta: 0xdc1eb4 });
export type CameraColour = keyof typeof CAMERA_COLOURS;
export type CameraShape = 'square' | 'circle' | 'triangle';

export interface Waypoint {
  /** ms since origin. */
  at: number;
  x: number;
  y: number;
}

export interface ShapeTimeline {
  visible?: Array<{ from: number; to?: number }>;
  appearAt?: number;
  disappearAt?: number;
  path?: Waypoint[];
  loopMs?: number;
}

export interface ShapeCameraOptions {
  colour?: CameraColour;
  shape?: CameraShape;
  /** Side of the shape's square in pixels (even) [80]. */
  size?: number;
  background?: string;
  width?: number;
  height?: number;
  fps?: number;
  /** Unix ms the timeline counts from [Date.now() when called]. */
  origin?: number;
  timeline?: ShapeTimeline;
  /** Any other test-camera option (codec, gop, bframes, slices, audio, ...). */
  feed?: Omit<RtspFeedOptions, 'width' | 'height' | 'fps' | 'source' | 'filter'>;
}

export interface ShapeBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface ShapeCamera {
  url: string;
  origin: number;
  size: number;
  colour: CameraColour;
  shape: CameraShape;
  timeline: ResolvedTimeline;
  server: TestRtspServer;
  shapeAt(clockMs: number): ShapeBox | null;
  truthOf(image: Buffer): Promise<{ clock: number | null; box: ShapeBox | null }>;
  close(): Promise<void>;
}

export interface ResolvedTimeline {
  visible: Array<{ from: number; to: number }>;
  path: Waypoint[];
  loopMs: number | null;
}

const DEFAULT_PATH: Waypoint[] = [{ at: 0, x: 40, y: 160 }, { at: 4000, x: 520, y: 160 }, { at: 8000, x: 40, y: 160 }];

export function resolveTimeline(t: ShapeTimeline = {}, frame = { width: 640, height: 360, size: 80 }): ResolvedTimeline {
  if (t.visible && (t.appearAt !== undefined || t.disappearAt !== undefined)) throw new Error('give either visible or appearAt/disappearAt');
  const visible = (t.visible ?? [{ from: t.appearAt ?? 0, to: t.disappearAt }]).map((v) => ({ from: v.from, to: v.to ?? Infinity }));
  const path = t.path ?? DEFAULT_PATH;
  const loopMs = t.loopMs ?? (t.path ? null : 8000);
  if (path.length === 0) throw new Error('the path needs at least one waypoint');
  for (let i = 1; i < path.length; i++) if (!(path[i]!.at > path[i - 1]!.at)) throw new Error('path waypoints must be in increasing time');
  for (const v of visible) if (!(v.to > v.from)) throw new Error(`visible interval [${v.from}, ${v.to}) is empty`);
  const top = Math.ceil(frame.height * 0.2);
  for (const p of path) {
    if (p.x < 0 || p.x + frame.size > frame.width || p.y < top || p.y + frame.size > frame.height) {
      throw new Error(`waypoint (${p.x}, ${p.y}) puts the ${frame.size} px shape outside x 0..${frame.width}, y ${top}..${frame.height} (below the barcodes)`);
    }
  }
  if (loopMs !== null && !(loopMs > 0)) throw new Error('loopMs must be positive');
  return { visible, path, loopMs };
}

/** Timeline time (ms since origin, looped) -> top-left corner as ffmpeg's overlay places it, or null when absent. */
export function cornerAt(tl: ResolvedTimeline, ms: number): { x: number; y: number } | null {
  if (ms < 0) return null; // before the origin: absent, looped or not
  const t = tl.loopMs === null ? ms : ms - tl.loopMs * Math.floor(ms / tl.loopMs);
  if (!tl.visible.some((v) => t >= v.from && t < v.to)) return null;
  const p = tl.path;
  let x = p.at(-1)!.x;
  let y = p.at(-1)!.y;
  if (t < p[0]!.at) ({ x, y } = p[0]!);
  for (let i = 0; i + 1 < p.length; i++) {
    const a = p[i]!;
    const b = p[i + 1]!;
    if (t >= a.at && t < b.at) {
      x = a.x + ((b.x - a.x) * (t - a.at)) / (b.at - a.at);
      y = a.y + ((b.y - a.y) * (t - a.at)) / (b.at - a.at);
      break;
    }
  }
  // overlay (yuv420) truncates the corner and clears its low bit.
  return { x: Math.trunc(x) & ~1, y: Math.trunc(y) & ~1 };
}

/** The ffmpeg filtergraph fragment that draws the shape (input: the picture; output: the picture with the shape). */
export function shapeFilter(tl: ResolvedTimeline, origin: number, o: { colour: CameraColour; shape: CameraShape; size: number }): string {
  const T = tl.loopMs === null ? `(t*1000-${origin})` : `mod(t*1000-${origin},${tl.loopMs})`;
  const coord = (k: 'x' | 'y') => {
    const p = tl.path;
    let e = String(p.at(-1)![k]);
    for (let i = p.length - 2; i >= 0; i--) {
      const a = p[i]!;
      const b = p[i + 1]!;
      e = `if(lt(${T},${b.at}),${a[k]}+(${b[k] - a[k]})*(${T}-${a.at})/${b.at - a.at},${e})`;
    }
    return `if(lt(${T},${p[0]!.at}),${p[0]![k]},${e})`;
  };
  const during = tl.visible.map((v) => (v.to === Infinity ? `gte(${T},${v.from})` : `gte(${T},${v.from})*lt(${T},${v.to})`)).join('+');
  const enable = `gte(t*1000,${origin})*(${during})`;
  const hex = `0x${CAMERA_COLOURS[o.colour].toString(16).padStart(6, '0')}`;
  const s = o.size;
  const alpha = {
    square: '',
    circle: `,geq=lum='lum(X,Y)':cb='cb(X,Y)':cr='cr(X,Y)':a='if(lte(hypot(X+0.5-${s / 2},Y+0.5-${s / 2}),${s / 2}),255,0)'`,
    triangle: `,geq=lum='lum(X,Y)':cb='cb(X,Y)':cr='cr(X,Y)':a='if(lte(abs((X+0.5)/${s}-0.5),(Y+0.5)/${s}/2),255,0)'`,
  }[o.shape];
  // One frame of the shape, repeated by overlay after its end (eof_action=repeat): drawn once, not per frame.
  return (
    `null[scene_bg];color=c=${hex}:s=${s}x${s}:r=1:d=1,format=yuva420p${alpha}[scene_shape];` +
    `[scene_bg][scene_shape]overlay=x='${coord('x')}':y='${coord('y')}':eof_action=repeat:enable='${enable}'`
  );
}

export async function startShapeCamera(opts: ShapeCameraOptions = {}): Promise<ShapeCamera> {
  const width = opts.width ?? 640;
  const height = opts.height ?? 360;
  const fps = opts.fps ?? 30;
  const size = opts.size ?? 80;
  const colour = opts.colour ?? 'red';
  const shape = opts.shape ?? 'square';
  if (!CAMERA_COLOURS[colour]) throw new Error(`unknown colour ${colour}: one of ${Object.keys(CAMERA_COLOURS).join(', ')}`);
  if (size % 2 !== 0 || size < 8) throw new Error('size must be even and at least 8');
  const timeline = resolveTimeline(opts.timeline, { width, height, size });
  const origin = opts.origin ?? Date.now();
  const server = await startRtspServer({
    ...opts.feed, width, height, fps,
    source: `color=c=${opts.background ?? '0x404040'}:s=${width}x${height}:r=${fps}`,
    filter: shapeFilter(timeline, origin, { colour, shape, size }),
  });
  const shapeAt = (clockMs: number): ShapeBox | null => {
    const c = cornerAt(timeline, clockMs - origin);
    return c && { x1: c.x, y1: c.y, x2: c.x + size, y2: c.y + size };
  };
  return {
    url: server.url, origin, size, colour, shape, timeline, server, shapeAt,
    truthOf: async (image) => {
      const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const clock = readClock(data, info.width, info.height, info.channels);
      return { clock, box: clock === null ? null : shapeAt(clock) };
    },
    close: () => server.close(),
  };
}
