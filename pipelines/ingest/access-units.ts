// Joins the slices of one H.264 frame into one access unit, in an FLV byte stream.
//
// Why: a camera that sends several slices per frame and repeats SPS/PPS before each slice of a keyframe (the
// default of GStreamer's rtph264pay with config-interval=-1, used by many camera firmwares) makes ffmpeg 5.1's RTSP
// demuxer hand out one packet per slice: its H.264 parser starts a new frame at every SPS/PPS/SEI/AUD that follows
// a slice. Downstream everything then sees half frames with one timestamp: the decoder conceals the missing half
// ("concealing ... errors in I frame"), the HLS copy writes one PES per slice (Chromium shows garbage), the HLS
// segmenter cuts twice per keyframe (EXTINF 3.999989 / 0.000011), and a GOP probe measures 0 s. ffmpeg has no
// bitstream filter that merges H.264 packets and its parser cannot be told otherwise, so for such cameras ingest
// runs two ffmpeg processes (merged-run.ts): the first copies the camera into FLV, this transform merges
// consecutive video packets that carry the same timestamps (RFC 6184: all slices of a picture share one RTP
// timestamp) and drops the parameter sets, SEI and delimiters repeated between slices, and the second ffmpeg reads
// whole frames. FLV because it is the simplest container ffmpeg can read from a pipe that keeps packets as written
// (its demuxer runs no parser) and carries pts/dts (in ms).
import { Transform, type TransformCallback } from 'node:stream';

const FLV_HEADER_BYTES = 9 + 4; // header + PreviousTagSize0
const TAG_HEADER_BYTES = 11;
const TAG_VIDEO = 9;
const CODEC_AVC = 7;
const AVC_NALU = 1;
/** NAL unit types that may only come before the first slice of an access unit (H.264 7.4.1.2.3). */
const BEFORE_FIRST_SLICE = new Set([6, 7, 8, 9]); // SEI, SPS, PPS, access unit delimiter
const VCL = new Set([1, 5]);

interface Tag {
  header: Buffer;
  body: Buffer;
}

export class AccessUnitJoiner extends Transform {
  #buf: Buffer = Buffer.alloc(0);
  #headerDone = false;
  #pending: Tag | null = null;
  /** Packets merged into the one before them (slices that arrived as their own packet). */
  merged = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    if (!this.#headerDone) {
      if (this.#buf.length < FLV_HEADER_BYTES) return done();
      const size = this.#buf.readUInt32BE(5) + 4;
      if (this.#buf.length < size) return done();
      this.push(this.#buf.subarray(0, size));
      this.#buf = this.#buf.subarray(size);
      this.#headerDone = true;
    }
    for (;;) {
      if (this.#buf.length < TAG_HEADER_BYTES) break;
      const dataSize = this.#buf.readUIntBE(1, 3);
      const total = TAG_HEADER_BYTES + dataSize + 4;
      if (this.#buf.length < total) break;
      const header = Buffer.from(this.#buf.subarray(0, TAG_HEADER_BYTES));
      const body = Buffer.from(this.#buf.subarray(TAG_HEADER_BYTES, TAG_HEADER_BYTES + dataSize));
      this.#buf = this.#buf.subarray(total);
      this.#onTag({ header, body });
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    this.#flushPending();
    done();
  }

  #onTag(tag: Tag): void {
    if (!isAvcNalu(tag)) {
      this.#flushPending();
      this.#write(tag);
      return;
    }
    const p = this.#pending;
    if (p && sameTime(p, tag)) {
      this.#pending = join(p, tag);
      this.merged++;
      return;
    }
    this.#flushPending();
    this.#pending = tag;
  }

  #flushPending(): void {
    if (this.#pending) this.#write(this.#pending);
    this.#pending = null;
  }

  #write(tag: Tag): void {
    const header = Buffer.from(tag.header);
    header.writeUIntBE(tag.body.length, 1, 3);
    const trailer = Buffer.alloc(4);
    trailer.writeUInt32BE(TAG_HEADER_BYTES + tag.body.length);
    this.push(Buffer.concat([header, tag.body, trailer]));
  }
}

function isAvcNalu(tag: Tag): boolean {
  return (tag.header[0]! & 0x1f) === TAG_VIDEO && tag.body.length >= 5 && (tag.body[0]! & 0x0f) === CODEC_AVC && tag.body[1] === AVC_NALU;
}

/** Same decode timestamp (tag header) and same composition offset (pts - dts). */
function sameTime(a: Tag, b: Tag): boolean {
  return a.header.subarray(4, 8).equals(b.header.subarray(4, 8)) && a.body.subarray(2, 5).equals(b.body.subarray(2, 5));
}

/** `b`'s NAL units appended to `a`'s; what may only precede a frame's first slice is dropped from `b`. */
function join(a: Tag, b: Tag): Tag {
  const hasSlice = nalUnits(a.body).some((n) => VCL.has(n.type));
  const keep = nalUnits(b.body).filter((n) => !(hasSlice && BEFORE_FIRST_SLICE.has(n.type)));
  const body = Buffer.concat([a.body, ...keep.map((n) => n.bytes)]);
  // Keyframe if either part is (frame type 1 in the high nibble), codec id unchanged.
  if (((b.body[0]! >> 4) & 0x0f) === 1) body[0] = (1 << 4) | (body[0]! & 0x0f);
  return { header: a.header, body };
}

/** The length-prefixed NAL units of an AVC NALU tag (ffmpeg's FLV muxer writes 4-byte lengths). */
function nalUnits(body: Buffer): { type: number; bytes: Buffer }[] {
  const out: { type: number; bytes: Buffer }[] = [];
  let at = 5;
  while (at + 4 <= body.length) {
    const len = body.readUInt32BE(at);
    const end = at + 4 + len;
    if (len === 0 || end > body.length) break;
    out.push({ type: body[at + 4]! & 0x1f, bytes: body.subarray(at, end) });
    at = end;
  }
  return out;
}
