// The built-in demo camera (`source: testsrc`): a synthetic scene a vision-language model can reason about, in
// place of colour bars. Named shapes in named colours move in lanes on a plain slate background (they never overlap,
// so each stays whole), the blue square leaves and comes back every 30 s (yes/no and count rules then open and close
// events), and a line of text reads "VIGIL DEMO", the local date and time and a running counter (seconds since the
// camera started). The caller burns the frame counter barcode over the top 10% (args.ts); the scene leaves it clear.
//
// Cheap on CPU: each shape is one frame (its alpha mask computed once by geq) that overlay repeats at a new position
// every frame; the rest is a plain colour source and one drawtext (see the ingest README for the measured cost).
//   demoSceneGraph(fontFile?)   the lavfi input graph (`-f lavfi -i <graph>`)
//   demoShapesAt(t)             ground truth: each shape's box in source pixels at input time t (seconds; frame n is
//                               at t = n / fps), or absent; used by tests and documentation, never by the pipeline
import { existsSync } from 'node:fs';

export const DEMO_SCENE = Object.freeze({ width: 1280, height: 720, fps: 30 });

export type DemoShapeKind = 'circle' | 'square' | 'triangle';

export interface DemoShape {
  /** What a model should call it: "red circle". */
  name: string;
  kind: DemoShapeKind;
  rgb: number;
  /** Side of its square in pixels (even). */
  size: number;
  /** Top edge (fixed lane). */
  y: number;
  /** Left edge moves back and forth between xMin and xMax (triangle wave) with this period, starting at phase (0..1). */
  xMin: number;
  xMax: number;
  periodS: number;
  phase: number;
  /** Visible for the first `onS` seconds of every `everyS` (absent: always). */
  blink?: { everyS: number; onS: number };
}

export const DEMO_SHAPES: readonly DemoShape[] = Object.freeze([
  { name: 'red circle', kind: 'circle', rgb: 0xdc1e1e, size: 160, y: 150, xMin: 40, xMax: 1080, periodS: 10, phase: 0 },
  { name: 'blue square', kind: 'square', rgb: 0x1e3cdc, size: 140, y: 344, xMin: 40, xMax: 1100, periodS: 7, phase: 0.5, blink: { everyS: 30, onS: 20 } },
  { name: 'yellow triangle', kind: 'triangle', rgb: 0xf0dc14, size: 160, y: 530, xMin: 40, xMax: 1080, periodS: 12, phase: 0.25 },
]);

export const DEMO_BACKGROUND = 0x505a64;
export const DEMO_TITLE = 'VIGIL DEMO';
const FONT_FILE = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';

const hex = (rgb: number) => `0x${rgb.toString(16).padStart(6, '0')}`;

/** Alpha mask of a shape inside its size x size square (geq, evaluated once: the source is one frame). */
function mask(kind: DemoShapeKind, s: number): string {
  const keep = "lum='lum(X,Y)':cb='cb(X,Y)':cr='cr(X,Y)'";
  if (kind === 'circle') return `,geq=${keep}:a='if(lte(hypot(X+0.5-${s / 2},Y+0.5-${s / 2}),${s / 2}),255,0)'`;
  if (kind === 'triangle') return `,geq=${keep}:a='if(lte(abs((X+0.5)/${s}-0.5),(Y+0.5)/${s}/2),255,0)'`;
  return '';
}

/** Left edge at time t, the same expression for ffmpeg (as text) and for demoShapesAt. */
const xExpr = (s: DemoShape) => `${s.xMin}+${s.xMax - s.xMin}*abs(1-2*mod(t/${s.periodS}+${s.phase},1))`;

/** The demo scene as a lavfi input graph; text uses `fontFile` (DejaVu Sans Bold from fonts-dejavu-core) or, when it
 * is missing, fontconfig's default sans font. */
export function demoSceneGraph(fontFile = FONT_FILE): string {
  const { width, height, fps } = DEMO_SCENE;
  const parts = [`color=c=${hex(DEMO_BACKGROUND)}:s=${width}x${height}:r=${fps}[bg0]`];
  DEMO_SHAPES.forEach((s, i) => {
    parts.push(`color=c=${hex(s.rgb)}:s=${s.size}x${s.size}:r=1:d=1,format=yuva420p${mask(s.kind, s.size)}[shape${i}]`);
  });
  DEMO_SHAPES.forEach((s, i) => {
    const enable = s.blink ? `:enable='lt(mod(t,${s.blink.everyS}),${s.blink.onS})'` : '';
    // One frame per shape, repeated by overlay (eof_action=repeat) at a new place each frame.
    parts.push(`[bg${i}][shape${i}]overlay=x='${xExpr(s)}':y=${s.y}:eof_action=repeat${enable}[bg${i + 1}]`);
  });
  const font = existsSync(fontFile) ? `fontfile=${fontFile}` : 'font=Sans';
  // %{localtime} defaults to "%Y-%m-%d %H:%M:%S"; \: survives the graph's quoting as the expansion's separator.
  const text = `${DEMO_TITLE}    %{localtime}    COUNT %{eif\\:t\\:d}`;
  parts.push(`[bg${DEMO_SHAPES.length}]drawtext=${font}:fontsize=40:fontcolor=white:x=24:y=88:text='${text}'[out0]`);
  return parts.join(';');
}

export interface DemoShapeBox {
  name: string;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** The visible shapes' boxes at input time t (s), as overlay places them (corner truncated to even pixels). */
export function demoShapesAt(t: number): DemoShapeBox[] {
  const out: DemoShapeBox[] = [];
  for (const s of DEMO_SHAPES) {
    if (s.blink && !(t % s.blink.everyS < s.blink.onS)) continue;
    const frac = (t / s.periodS + s.phase) % 1;
    const x = Math.trunc(s.xMin + (s.xMax - s.xMin) * Math.abs(1 - 2 * frac)) & ~1;
    const y = Math.trunc(s.y) & ~1;
    out.push({ name: s.name, x1: x, y1: y, x2: x + s.size, y2: y + s.size });
  }
  return out;
}
