// Turns ffmpeg's two streams into timestamped frames: JPEGs cut from stdout (image2pipe MJPEG) and showinfo
// lines from stderr. Both come from the same filter chain in order, so the k-th JPEG is the k-th showinfo frame.

/** Splits a byte stream of concatenated JPEGs. ffmpeg's MJPEG carries no thumbnails, and 0xFF in entropy-coded
 *  data is always stuffed, so the first EOI (FF D9) after an SOI ends the picture. */
export class JpegSplitter {
  #buf: Buffer = Buffer.alloc(0);
  #scanFrom = 2;

  /** Feeds a chunk; returns the complete JPEGs it finished. */
  push(chunk: Buffer): Buffer[] {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    const out: Buffer[] = [];
    for (;;) {
      const start = this.#buf.indexOf(SOI);
      if (start < 0) {
        // Keep a trailing 0xFF: it may be the first half of the next SOI.
        this.#buf = this.#buf.at(-1) === 0xff ? this.#buf.subarray(-1) : Buffer.alloc(0);
        break;
      }
      if (start > 0) this.#drop(start);
      const end = this.#buf.indexOf(EOI, this.#scanFrom);
      if (end < 0) {
        this.#scanFrom = Math.max(2, this.#buf.length - 1);
        break;
      }
      out.push(Buffer.from(this.#buf.subarray(0, end + 2)));
      this.#drop(end + 2);
    }
    return out;
  }

  #drop(n: number): void {
    this.#buf = this.#buf.subarray(n);
    this.#scanFrom = 2;
  }
}

const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);

export interface ShowinfoFrame {
  /** Index within the filter (0, 1, ...). */
  n: number;
  /** PTS in the filter's timebase. */
  pts: number;
  /** PTS in seconds, exact (pts_time is printed with only 6 significant digits, useless after hours of RTSP). */
  seconds: number;
  iskey: boolean;
  width: number;
  height: number;
}

const SHOWINFO = /^\[Parsed_showinfo_\d+ @ [^\]]+\] /;
const CONFIG_IN = /config in time_base: (\d+)\/(\d+)/;
const FRAME = /\bn:\s*(\d+) pts:\s*(-?\d+) pts_time:\S+.*?\bs:(\d+)x(\d+).*?\biskey:(\d)/;

/** Parses showinfo stderr lines. Lines that are not showinfo are returned as `other` for the stderr tail. */
export class ShowinfoParser {
  #tbNum = 1;
  #tbDen = 90000;

  parse(line: string): { frame: ShowinfoFrame } | { showinfo: true } | { other: string } {
    if (!SHOWINFO.test(line)) return { other: line };
    const cfg = CONFIG_IN.exec(line);
    if (cfg) {
      this.#tbNum = Number(cfg[1]);
      this.#tbDen = Number(cfg[2]) || 1;
      return { showinfo: true };
    }
    const m = FRAME.exec(line);
    if (!m) return { showinfo: true };
    const pts = Number(m[2]);
    return {
      frame: {
        n: Number(m[1]),
        pts,
        seconds: (pts * this.#tbNum) / this.#tbDen,
        iskey: m[5] === '1',
        width: Number(m[3]),
        height: Number(m[4]),
      },
    };
  }
}

export interface TimedJpeg {
  info: ShowinfoFrame;
  jpeg: Buffer;
}

/** Pairs the k-th JPEG with the k-th showinfo frame, whichever arrives first. */
export class FramePairer {
  #jpegs: Buffer[] = [];
  #infos: ShowinfoFrame[] = [];

  addJpeg(jpeg: Buffer): TimedJpeg[] {
    this.#jpegs.push(jpeg);
    return this.#drain();
  }

  addInfo(info: ShowinfoFrame): TimedJpeg[] {
    this.#infos.push(info);
    return this.#drain();
  }

  #drain(): TimedJpeg[] {
    const out: TimedJpeg[] = [];
    while (this.#jpegs.length && this.#infos.length) out.push({ jpeg: this.#jpegs.shift()!, info: this.#infos.shift()! });
    return out;
  }
}

/** Splits a text stream into lines (ffmpeg ends progress lines with \r, log lines with \n). */
export class LineSplitter {
  #rest = '';
  push(chunk: string): string[] {
    const parts = (this.#rest + chunk).split(/\r?\n|\r/);
    this.#rest = parts.pop() ?? '';
    return parts.filter((l) => l.length > 0);
  }
}
