import { describe, expect, it } from 'vitest';
import { IngestSchema } from '../../config/schema.ts';
import { nextFailureCount, restartDelay } from '../../pipelines/backoff.ts';
import { classifyExit, exitReason, LineTail, reasonOf } from '../../pipelines/ingest/exit-reason.ts';
import { FramePairer, JpegSplitter, LineSplitter, ShowinfoParser } from '../../pipelines/ingest/frame-stream.ts';
import { FrameSlot } from '../../pipelines/ingest/frame-slot.ts';
import { parsePlaylist } from '../../pipelines/ingest/hls-playlist.ts';
import { PacketClock } from '../../pipelines/ingest/packet-clock.ts';
import { PdtMapper } from '../../pipelines/ingest/pdt.ts';
import { longestKeyframeGap } from '../../pipelines/ingest/probe.ts';
import type { Frame } from '../../pipelines/ingest/types.ts';

const jpeg = (fill: number, len = 50) => Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(len, fill), Buffer.from([0xff, 0xd9])]);

describe('JpegSplitter', () => {
  it('cuts concatenated JPEGs at any chunk boundary', () => {
    const stream = Buffer.concat([jpeg(1), jpeg(2, 70), jpeg(3)]);
    for (const size of [1, 2, 7, 1000]) {
      const s = new JpegSplitter();
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) out.push(...s.push(stream.subarray(i, i + size)));
      expect(out.map((b) => b.length)).toEqual([54, 74, 54]);
      expect(out[1]![2]).toBe(2);
    }
  });
  it('keeps stuffed 0xFF 0x00 inside a picture', () => {
    const j = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x10]), Buffer.from([0xff, 0xd9])]);
    expect(new JpegSplitter().push(j)).toEqual([j]);
  });
});

describe('ShowinfoParser + FramePairer', () => {
  const cfg = '[Parsed_showinfo_2 @ 0x55d] config in time_base: 1/90000, frame_rate: 30/1';
  const line = (n: number, pts: number) =>
    `[Parsed_showinfo_2 @ 0x55d] n:${String(n).padStart(4)} pts:${String(pts).padStart(12)} pts_time:12345.7 pos: 1 fmt:yuvj420p sar:1/1 s:1288x728 i:P iskey:1 type:I`;
  it('uses the exact integer pts and the configured timebase, not the 6-digit pts_time', () => {
    const p = new ShowinfoParser();
    expect(p.parse(cfg)).toEqual({ showinfo: true });
    const r = p.parse(line(3, 1111111111));
    expect(r).toEqual({ frame: { n: 3, pts: 1111111111, seconds: 1111111111 / 90000, iskey: true, width: 1288, height: 728 } });
    expect(p.parse('[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized')).toEqual({ other: '[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized' });
  });
  it('pairs the k-th JPEG with the k-th showinfo frame in either arrival order', () => {
    const p = new ShowinfoParser();
    const pair = new FramePairer();
    const f = (n: number) => (p.parse(line(n, n * 3000)) as { frame: import('../../pipelines/ingest/frame-stream.ts').ShowinfoFrame }).frame;
    expect(pair.addInfo(f(0))).toEqual([]);
    expect(pair.addInfo(f(1))).toEqual([]);
    const a = pair.addJpeg(jpeg(10));
    expect(a.map((x) => [x.info.n, x.jpeg[2]])).toEqual([[0, 10]]);
    expect(pair.addJpeg(jpeg(11)).map((x) => [x.info.n, x.jpeg[2]])).toEqual([[1, 11]]);
    expect(pair.addJpeg(jpeg(12))).toEqual([]);
    expect(pair.addInfo(f(2)).map((x) => [x.info.n, x.jpeg[2]])).toEqual([[2, 12]]);
  });
  it('LineSplitter handles \\r and partial lines', () => {
    const s = new LineSplitter();
    expect(s.push('a\nb')).toEqual(['a']);
    expect(s.push('c\r\nd\re\n')).toEqual(['bc', 'd', 'e']);
  });
});

describe('playlist and PDT mapping', () => {
  const text = [
    '#EXTM3U', '#EXT-X-VERSION:6', '#EXT-X-TARGETDURATION:1', '#EXT-X-MEDIA-SEQUENCE:7',
    '#EXTINF:1.000000,', '#EXT-X-PROGRAM-DATE-TIME:2026-11-25T09:37:53.099+0000', 'seg-7.ts',
    '#EXTINF:0.966667,', '#EXT-X-PROGRAM-DATE-TIME:2026-11-25T09:37:54.099+0000', 'seg-8.ts',
    '#EXTINF:1.000000,', 'seg-9.ts',
  ].join('\n');
  const t0 = Date.parse('2026-11-25T09:37:53.099Z');
  it('parses sequence numbers, durations and PDTs (carried when missing)', () => {
    const p = parsePlaylist(text);
    expect(p.mediaSequence).toBe(7);
    expect(p.segments.map((s) => [s.seq, s.duration, Math.round(s.pdt! - t0)])).toEqual([[7, 1, 0], [8, 0.966667, 1000], [9, 1, 1967]]);
    expect(p.ended).toBe(false);
  });
  it('falls back to PDT(first segment) + (P - P0) without packet timing or a readable segment, ignoring an older run\'s playlist', async () => {
    const m = new PdtMapper(7, new PacketClock(), async () => null);
    expect(await m.observe(parsePlaylist(text), '/nowhere')).toBe(false); // no frame yet: nothing to assume
    m.setFirstPts(100);
    m.setFirstPts(999); // later frames do not move P0
    expect(await m.observe(parsePlaylist(text), '/nowhere')).toBe(true);
    expect(m.fallback).toMatch(/no packet timing/);
    expect(m.map(100)).toBe(t0);
    expect(m.map(101.5)).toBe(t0 + 1500);
    expect(m.shiftMs).toBe(0);
    const stale = new PdtMapper(10, new PacketClock(), async () => 1);
    expect(await stale.observe(parsePlaylist(text), '/nowhere')).toBe(false);
    expect(stale.ready).toBe(false);
  });
});

describe('backoff policy', () => {
  const policy = IngestSchema.parse({ backoff: { initialMs: 500, maxMs: 5000, factor: 2, resetAfterMs: 30000 } }).backoff;
  it('grows geometrically to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => restartDelay(policy, n))).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
  });
  it('a run that stayed live long enough resets the sequence', () => {
    expect(nextFailureCount(policy, 4, 1000)).toBe(5);
    expect(nextFailureCount(policy, 4, 31000)).toBe(1);
  });
});

describe('exit reasons', () => {
  it('names what happened and what to do, without blaming a camera that never connected', () => {
    expect(exitReason({ code: 1, signal: null, hadFrame: false, stderr: ['[tcp @ 0x1] Connection to tcp://127.0.0.1:1 failed: Connection refused'] }))
      .toMatch(/^connection refused: .*check the camera is on and the port/);
    expect(exitReason({ code: 0, signal: null, hadFrame: true, stderr: ['Exiting normally'] })).toMatch(/^camera closed the stream: reconnecting/);
    expect(exitReason({ code: 0, signal: null, hadFrame: false, stderr: [] })).toMatch(/^camera closed the stream before the first picture: check/);
    expect(exitReason({ code: 0, signal: null, hadFrame: true, stderr: ['x: Connection timed out'] })).toMatch(/^camera stopped sending \(timed out\): /);
    expect(exitReason({ code: 8, signal: null, hadFrame: true, stderr: ['[vost#0 @ 0x1] Something odd'] })).toMatch(/^ffmpeg exited with code 8: Something odd: /);
    for (const r of [
      exitReason({ code: 1, signal: null, hadFrame: false, stderr: ['x: Server returned 401 Unauthorized (authorization failed)'] }),
      exitReason({ code: 1, signal: null, hadFrame: false, stderr: ['x: Server returned 404 Not Found'] }),
    ]) expect(r).not.toMatch(/died before first frame/);
  });
  it('"Invalid data" after about the socket timeout means the camera did not answer; quickly, that it sent bad data', () => {
    const stderr = ['rtsp://127.0.0.1:9/x: Invalid data found when processing input'];
    const silent = classifyExit({ code: 1, signal: null, hadFrame: false, stderr, elapsedMs: 3100, answerTimeoutMs: 3000 });
    expect(silent.kind).toBe('no-answer');
    expect(reasonOf(silent)).toBe("camera accepted the connection but did not answer within 3 s: check that the port is the camera's RTSP port (usually 554) and that the camera is not overloaded");
    expect(classifyExit({ code: 1, signal: null, hadFrame: false, stderr, elapsedMs: 200, answerTimeoutMs: 3000 }).kind).toBe('invalid-data');
    expect(classifyExit({ code: 1, signal: null, hadFrame: false, stderr: ['', 'probe timed out'] }).kind).toBe('no-answer');
    expect(exitReason({ code: 1, signal: null, hadFrame: false, stderr: ['no video stream found'] })).toMatch(/^the source has no video stream: /);
  });
  it('LineTail keeps the newest lines', () => {
    const t = new LineTail(3);
    for (let i = 0; i < 10; i++) t.push(String(i));
    expect(t.lines()).toEqual(['7', '8', '9']);
  });
});

describe('FrameSlot', () => {
  const frame = (seq: number) => ({ seq }) as Frame;
  it('keeps the newest frame and counts overwritten ones once a consumer reads it', () => {
    const s = new FrameSlot();
    s.put(frame(0));
    s.put(frame(0)); // nobody reads yet: not a drop
    expect(s.dropped).toBe(0);
    expect(s.take()?.seq).toBe(0);
    s.put(frame(1));
    s.put(frame(2));
    s.put(frame(3));
    expect(s.take()?.seq).toBe(3);
    expect(s.take()).toBeNull();
    expect(s.dropped).toBe(2);
    s.put(frame(4));
    expect(s.take()?.seq).toBe(4);
    expect(s.dropped).toBe(2);
  });
});

describe('probe GOP', () => {
  it('is the longest keyframe gap, null with fewer than two keyframes', () => {
    const pk = (t: number, k: boolean) => ({ pts_time: String(t), flags: k ? 'K_' : '__' });
    expect(longestKeyframeGap([pk(0, true), pk(0.5, false), pk(1, true), pk(3, true)])).toBe(2);
    expect(longestKeyframeGap([pk(0, false), pk(1, true)])).toBeNull();
  });
});
