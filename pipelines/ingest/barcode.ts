// The frame counter burned into synthetic cameras (`testsrc`, the test RTSP feed), so tests can tell exactly
// which source frame a sampled JPEG, an HLS frame or a browser screenshot shows.
//
// Layout, in fractions of the picture so it survives any scaling:
//   a black band across the top, BAND_HEIGHT of the picture high, split into CELLS equal columns;
//   column 0 is always white (the reference level), columns 1..BITS carry the counter, most significant first
//   (white = 1, black = 0). Each mark fills the middle MARK_FILL of its column and of the band, leaving black
//   margins, so JPEG ringing and scaler blur at the edges never reach a cell's centre.
// The counter is ffmpeg's input frame number `n` (0, 1, 2, ... at the source rate), modulo 2^BITS.

export const BARCODE_BITS = 24;
export const BARCODE_CELLS = BARCODE_BITS + 1;
export const BARCODE_BAND_HEIGHT = 0.1;
export const BARCODE_MARK_FILL = 0.7;

export interface BarcodeLayout {
  bits: number;
  /** Columns across the band: one white reference, then `bits` data cells. */
  cells: number;
  /** Band height as a fraction of the picture height (the band starts at the top edge). */
  bandHeight: number;
  /** Fraction of each column (and of the band height) filled by a mark. */
  markFill: number;
}

export const BARCODE_LAYOUT: Readonly<BarcodeLayout> = Object.freeze({
  bits: BARCODE_BITS,
  cells: BARCODE_CELLS,
  bandHeight: BARCODE_BAND_HEIGHT,
  markFill: BARCODE_MARK_FILL,
});

/** Pixel centre of column `cell` (0 = reference) in a picture of the given size. */
export function barcodeCellCenter(cell: number, width: number, height: number): { x: number; y: number } {
  return { x: ((cell + 0.5) * width) / BARCODE_CELLS, y: (BARCODE_BAND_HEIGHT * height) / 2 };
}

/** ffmpeg filter chain (comma-joined drawbox filters) that burns the counter into every frame. */
export function barcodeFilter(): string {
  const col = `iw/${BARCODE_CELLS}`;
  const pad = (1 - BARCODE_MARK_FILL) / 2;
  const markY = `ih*${num(BARCODE_BAND_HEIGHT * pad)}`;
  const markH = `ih*${num(BARCODE_BAND_HEIGHT * BARCODE_MARK_FILL)}`;
  const mark = (cell: number, enable?: string) =>
    `drawbox=x=${col}*${num(cell + pad)}:y=${markY}:w=${col}*${BARCODE_MARK_FILL}:h=${markH}:color=white:t=fill` +
    (enable ? `:enable='${enable}'` : '');
  const parts = [`drawbox=x=0:y=0:w=iw:h=ih*${BARCODE_BAND_HEIGHT}:color=black:t=fill`, mark(0)];
  for (let b = 0; b < BARCODE_BITS; b++) {
    const weight = 2 ** (BARCODE_BITS - 1 - b);
    // Bit set when n mod 2w >= w; `mod` keeps the expression exact for any n below 2^53.
    parts.push(mark(b + 1, `gte(mod(n,${2 * weight}),${weight})`));
  }
  return parts.join(',');
}

/** Short decimal for filter expressions (0.15000000000000002 -> 0.15). */
function num(x: number): string {
  return String(Math.round(x * 1e6) / 1e6);
}
