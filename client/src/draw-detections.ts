// Drawing rule results over the picture: boxes, points, labels and attributes, scaled from source pixels to
// the picture's displayed rectangle (letterboxing included).
// - Positives stand out: the rule's own colour, a tinted fill, the rule name in the label.
// - Gated positives (the change gate found the scene unchanged, no model call) are the same standing
//   condition, so they stay as strong, only dashed: fading them would make a parked car's alert blink out.
// - Negatives are drawn faintly (thin grey, no fill): the objects the model saw that did not meet the
//   condition are worth a glance, but must never look like an alert.
// - A result held from an earlier frame is dimmer and says its age ("2.1 s old").
// - yes/no, count and describe results without geometry become chips in the top-left corner.
import type { Box, DetectionMessage, Point } from '../../server/wire.ts';
import { ageLabel, type ShownDetection } from './detections.ts';
import type { Rect } from './overlay.ts';

/** A box as drawn, in CSS pixels of the video element (what tests read back). */
export interface DrawnBox {
  rule: string;
  label: string;
  /** The whole label as drawn (rule name, object, attributes, age). */
  text: string;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  positive: boolean;
  exact: boolean;
  /** pdt of the frame the result was computed on. */
  resultPdt: number;
}

const PALETTE = ['#ff4d4f', '#36cfc9', '#ffc53d', '#9254de', '#40a9ff', '#73d13d', '#ff85c0', '#ff7a45'];
const NEGATIVE = 'rgba(200, 210, 220, 0.55)';

/** A stable colour per rule id, so a rule looks the same on every camera and after a reload. */
export function ruleColour(rule: string): string {
  let h = 0;
  for (let i = 0; i < rule.length; i++) h = (h * 31 + rule.charCodeAt(i)) >>> 0;
  return PALETTE[h % PALETTE.length]!;
}

/** Maps source-pixel coordinates of a `sourceW` x `sourceH` picture into `rect`. */
export function sourceToRect(rect: Rect, sourceW: number, sourceH: number): (x: number, y: number) => [number, number] {
  const sx = rect.w / (sourceW || 1);
  const sy = rect.h / (sourceH || 1);
  return (x, y) => [rect.x + x * sx, rect.y + y * sy];
}

export function attributeText(attributes: Record<string, unknown> | undefined): string {
  return Object.entries(attributes ?? {})
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

interface Style {
  colour: string;
  alpha: number;
  width: number;
  dashed: boolean;
  positive: boolean;
  suffix: string;
}

function styleOf(s: ShownDetection, maxAgeMs: number): Style {
  const positive = s.msg.positive;
  const alpha = s.exact ? 1 : Math.max(0.3, 0.75 - (0.45 * s.ageMs) / maxAgeMs);
  return {
    colour: positive ? ruleColour(s.msg.rule) : NEGATIVE,
    alpha: positive ? alpha : alpha * 0.6,
    width: positive ? 3 : 1,
    dashed: s.msg.gated,
    positive,
    suffix: s.exact ? '' : ` · ${ageLabel(s.ageMs)}`,
  };
}

export class DetectionPainter {
  constructor(
    private readonly ctx: CanvasRenderingContext2D,
    private readonly ruleName: (id: string) => string,
    private readonly maxAgeMs: number,
  ) {}

  /** Draws every shown result into `rect` (canvas pixels); returns the boxes in CSS pixels. */
  paint(rect: Rect, shown: ShownDetection[], dpr: number): DrawnBox[] {
    const drawn: DrawnBox[] = [];
    let chips = 0;
    // Negatives first: positives are drawn on top of them.
    const ordered = [...shown].sort((a, b) => Number(a.msg.positive) - Number(b.msg.positive));
    for (const s of ordered) {
      const st = styleOf(s, this.maxAgeMs);
      const map = sourceToRect(rect, s.msg.sourceW, s.msg.sourceH);
      for (const b of s.msg.boxes) drawn.push(this.box(b, s, st, map, dpr));
      for (const p of s.msg.points) this.point(p, s.msg, st, map, dpr);
      if (s.msg.positive && s.msg.boxes.length === 0 && s.msg.points.length === 0) this.chip(rect, chips++, s.msg, st, dpr);
    }
    return drawn;
  }

  private label(m: DetectionMessage, what: string, attributes: Record<string, unknown> | undefined, st: Style): string {
    const attrs = attributeText(attributes);
    const head = st.positive ? `${this.ruleName(m.rule)}: ${what}` : what;
    return `${head}${attrs ? ` ${attrs}` : ''}${st.suffix}`;
  }

  private box(b: Box, s: ShownDetection, st: Style, map: ReturnType<typeof sourceToRect>, dpr: number): DrawnBox {
    const ctx = this.ctx;
    const [x1, y1] = map(b.x1, b.y1);
    const [x2, y2] = map(b.x2, b.y2);
    const text = this.label(s.msg, b.label, b.attributes, st);
    ctx.save();
    ctx.globalAlpha = st.alpha;
    ctx.strokeStyle = st.colour;
    ctx.lineWidth = st.width * dpr;
    if (st.dashed) ctx.setLineDash([8 * dpr, 5 * dpr]);
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    if (st.positive) {
      ctx.globalAlpha = st.alpha * 0.12;
      ctx.fillStyle = st.colour;
      ctx.fillRect(x1, y1, x2 - x1, y2 - y1);
    }
    ctx.restore();
    this.tag(text, x1, y1, st, dpr);
    return { rule: s.msg.rule, label: b.label, text, x1: x1 / dpr, y1: y1 / dpr, x2: x2 / dpr, y2: y2 / dpr, positive: st.positive, exact: s.exact, resultPdt: s.msg.pdt };
  }

  private point(p: Point, m: DetectionMessage, st: Style, map: ReturnType<typeof sourceToRect>, dpr: number): void {
    const ctx = this.ctx;
    const [x, y] = map(p.x, p.y);
    ctx.save();
    ctx.globalAlpha = st.alpha;
    ctx.fillStyle = st.colour;
    ctx.strokeStyle = '#000';
    ctx.lineWidth = 1.5 * dpr;
    ctx.beginPath();
    ctx.arc(x, y, (st.positive ? 6 : 4) * dpr, 0, Math.PI * 2);
    ctx.fill();
    ctx.stroke();
    ctx.restore();
    this.tag(this.label(m, p.label, p.attributes, st), x + 8 * dpr, y - 4 * dpr, st, dpr);
  }

  /** A result without geometry (yes/no, count, describe) as a line in the top-left corner. */
  private chip(rect: Rect, i: number, m: DetectionMessage, st: Style, dpr: number): void {
    const what = m.answer ?? (m.count !== null ? `count ${m.count}` : 'yes');
    this.tag(this.label(m, what.length > 60 ? `${what.slice(0, 57)}…` : what, undefined, st), rect.x + 8 * dpr, rect.y + (26 + 24 * i) * dpr, st, dpr);
  }

  /** A label on a dark plate, above (x, y) where there is room, else below it. */
  private tag(text: string, x: number, y: number, st: Style, dpr: number): void {
    const ctx = this.ctx;
    const size = (st.positive ? 13 : 11) * dpr;
    ctx.save();
    ctx.font = `${st.positive ? 600 : 400} ${Math.round(size)}px system-ui, sans-serif`;
    const w = ctx.measureText(text).width + 8 * dpr;
    const h = size + 6 * dpr;
    const top = y - h >= 0 ? y - h : y;
    ctx.globalAlpha = st.alpha;
    ctx.fillStyle = 'rgba(0, 0, 0, 0.65)';
    ctx.fillRect(x, top, w, h);
    ctx.fillStyle = st.colour;
    ctx.fillText(text, x + 4 * dpr, top + size);
    ctx.restore();
  }
}
