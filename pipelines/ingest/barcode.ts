// Barcodes burned into synthetic cameras (`testsrc`, the test RTSP feed), so tests can tell exactly which source
// frame a sampled JPEG, an HLS frame or a browser screenshot shows, and when the camera captured it.
//
// Layout, in fractions of the picture so it survives any scaling. Each barcode is a black band across the full
// width, split into equal columns; column 0 is always white (the reference level), the other columns carry the
// value's bits, most significant first (white = 1, black = 0). Each mark fills the middle MARK_FILL of its column
// and of the band, leaving black margins, so JPEG ringing and scaler blur at the edges never reach a cell's centre.
//   counter band (BARCODE_LAYOUT): the top 10% of the picture, 24 bits: ffmpeg's input frame number `n`
//     (0, 1, 2, ... at the source rate), modulo 2^24;
//   clock band (CLOCK_BARCODE_LAYOUT, test RTSP feed only): the next 10%, 32 bits: the wall clock (Unix ms) when
//     the frame was made, modulo 2^32 (about 49.7 days; readers unwrap it against their own clock).

export const BARCODE_BITS = 24;
export const BARCODE_CELLS = BARCODE_BITS + 1;
export const BARCODE_BAND_HEIGHT = 0.1;
export const BARCODE_MARK_FILL = 0.7;
export const CLOCK_BARCODE_BITS = 32;

export interface BarcodeLayout {
  bits: number;
  /** Columns across the band: one white reference, then `bits` data cells. */
  cells: number;
  /** Band height as a fraction of the picture height. */
  bandHeight: number;
  /** Fraction of each column (and of the band height) filled by a mark. */
  markFill: number;
  /** Top of the band as a fraction of the picture height (0 when absent: the band starts at the top edge). */
  bandTop?: number;
}

export const BARCODE_LAYOUT: Readonly<BarcodeLayout> = Object.freeze({
  bits: BARCODE_BITS,
  cells: BARCODE_CELLS,
  bandHeight: BARCODE_BAND_HEIGHT,
  markFill: BARCODE_MARK_FILL,
});

export const CLOCK_BARCODE_LAYOUT: Readonly<BarcodeLayout> = Object.freeze({
  bits: CLOCK_BARCODE_BITS,
  cells: CLOCK_BARCODE_BITS + 1,
  bandHeight: BARCODE_BAND_HEIGHT,
  markFill: BARCODE_MARK_FILL,
  bandTop: BARCODE_BAND_HEIGHT,
});

/** Pixel centre of column `cell` (0 = reference) in a picture of the given size. */
export function barcodeCellCenter(cell: number, width: number, height: number, layout: BarcodeLayout = BARCODE_LAYOUT): { x: number; y: number } {
  return { x: ((cell + 0.5) * width) / layout.cells, y: ((layout.bandTop ?? 0) + layout.bandHeight / 2) * height };
}

/** ffmpeg filter chain (comma-joined drawbox filters) that burns the frame counter into every frame. */
export function barcodeFilter(): string {
  return bandFilter(BARCODE_LAYOUT, 'n');
}

/**
 * ffmpeg filter chain that burns the wall clock (Unix ms, modulo 2^32) at the moment each frame passes it. drawbox
 * only sees the frame time `t`, so the chain first sets each frame's timestamp to the real-time clock in ms
 * (`RTCTIME` is in microseconds), draws, and then gives the frames back their regular timestamps (frame number over
 * frame rate), so the encoded stream is timed exactly as without the clock.
 */
export function clockBarcodeFilter(): string {
  return ['settb=1/1000', 'setpts=RTCTIME/1000', clockBandFilter(), 'setpts=N/FRAME_RATE/TB'].join(',');
}

/** The clock band alone, for chains that already set each frame's timestamp to the wall clock in ms (as above). */
export function clockBandFilter(): string {
  return bandFilter(CLOCK_BARCODE_LAYOUT, 'round(t*1000)');
}

function bandFilter(layout: BarcodeLayout, value: string): string {
  const top = layout.bandTop ?? 0;
  const col = `iw/${layout.cells}`;
  const pad = (1 - layout.markFill) / 2;
  const markY = `ih*${num(top + layout.bandHeight * pad)}`;
  const markH = `ih*${num(layout.bandHeight * layout.markFill)}`;
  const mark = (cell: number, enable?: string) =>
    `drawbox=x=${col}*${num(cell + pad)}:y=${markY}:w=${col}*${layout.markFill}:h=${markH}:color=white:t=fill` +
    (enable ? `:enable='${enable}'` : '');
  const parts = [`drawbox=x=0:y=ih*${num(top)}:w=iw:h=ih*${num(layout.bandHeight)}:color=black:t=fill`, mark(0)];
  for (let b = 0; b < layout.bits; b++) {
    const weight = 2 ** (layout.bits - 1 - b);
    // Bit set when value mod 2w >= w; `mod` keeps the expression exact for any value below 2^53.
    parts.push(mark(b + 1, `gte(mod(${value},${2 * weight}),${weight})`));
  }
  return parts.join(',');
}

/** Short decimal for filter expressions (0.15000000000000002 -> 0.15). */
function num(x: number): string {
  return String(Math.round(x * 1e6) / 1e6);
}
