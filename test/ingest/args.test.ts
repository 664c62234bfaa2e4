import { describe, expect, it } from 'vitest';
import { CameraSchema, EngineSchema, HlsSchema, IngestSchema } from '../../config/schema.ts';
import { engineGrid } from '../../pipelines/engine/create.ts';
import {
  buildFfmpegArgs, chooseDecode, inputArgs, probeInputArgs, sampleSize, selectFilter, sourceKind, type SourceInfo,
} from '../../pipelines/ingest/args.ts';
import { smartResize } from '../../pipelines/grid.ts';
import { demoSceneGraph } from '../../pipelines/ingest/demo-scene.ts';

const ingest = IngestSchema.parse({});
const grid = engineGrid(EngineSchema.parse({}));
const hls = HlsSchema.parse({ segmentSeconds: 2, liveSegments: 5 });
const h264: SourceInfo = { codec: 'h264', width: 1920, height: 1080, fps: 30, gopSeconds: 1 };
const mjpeg: SourceInfo = { codec: 'mjpeg', width: 1280, height: 720, fps: 30, gopSeconds: 0.033 };
const cam = (o: Record<string, unknown>) => CameraSchema.parse({ id: 'c', ...o });
const build = (camera: ReturnType<typeof cam>, info = h264) =>
  buildFfmpegArgs({ camera, ingest, hls, hlsDir: '/d/hls/c', grid, startNumber: 42, info });
const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe('source kinds and input args', () => {
  it('classifies sources', () => {
    expect(sourceKind('rtsp://u:p@h:554/x')).toBe('rtsp');
    expect(sourceKind('/dev/video2')).toBe('v4l2');
    expect(sourceKind('testsrc')).toBe('testsrc');
    expect(sourceKind('/media/clip.mp4')).toBe('file');
  });

  it('rtsp: tcp and the socket timeout in microseconds', () => {
    const a = inputArgs(cam({ source: 'rtsp://h/x' }), IngestSchema.parse({ rtspTimeout: 2.5 }));
    expect(a).toEqual(['-protocol_whitelist', 'tcp,udp,rtp,srtp,tls', '-rtsp_transport', 'tcp', '-timeout', '2500000', '-i', 'rtsp://h/x']);
  });

  it('v4l2 asks for mjpeg; files loop in real time; testsrc is the lavfi demo scene', () => {
    expect(inputArgs(cam({ source: '/dev/video0' }), ingest)).toEqual(['-f', 'v4l2', '-input_format', 'mjpeg', '-i', '/dev/video0']);
    expect(inputArgs(cam({ source: 'a.mp4' }), ingest)).toEqual(['-protocol_whitelist', 'file', '-stream_loop', '-1', '-re', '-i', 'a.mp4']);
    expect(inputArgs(cam({ source: 'testsrc' }), ingest)).toEqual(['-re', '-f', 'lavfi', '-i', demoSceneGraph()]);
    expect(demoSceneGraph()).toMatch(/^color=c=0x[0-9a-f]{6}:s=1280x720:r=30\[bg0\];/);
  });

  it('inputArgs replace the derived input; without -i the source is appended', () => {
    const withI = ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30'];
    expect(inputArgs(cam({ source: '/dev/video0', inputArgs: withI }), ingest)).toEqual(withI);
    expect(inputArgs(cam({ source: '/dev/video0', inputArgs: ['-f', 'v4l2'] }), ingest)).toEqual(['-f', 'v4l2', '-i', '/dev/video0']);
  });

  it('probe input drops pacing and looping', () => {
    expect(probeInputArgs(['-stream_loop', '-1', '-re', '-i', 'a.mp4'])).toEqual(['-i', 'a.mp4']);
  });
});

describe('decode mode', () => {
  it('auto picks keyframes only when the GOP fits the sampling interval', () => {
    expect(chooseDecode(cam({ source: 'rtsp://h/x', sampleInterval: 1 }), h264, false)).toBe('keyframes');
    expect(chooseDecode(cam({ source: 'rtsp://h/x', sampleInterval: 0.5 }), h264, false)).toBe('all');
    expect(chooseDecode(cam({ source: 'rtsp://h/x' }), { ...h264, gopSeconds: null }, false)).toBe('all');
  });
  it('explicit modes win; encoding always decodes everything', () => {
    expect(chooseDecode(cam({ source: 'rtsp://h/x', decode: 'all' }), h264, false)).toBe('all');
    expect(chooseDecode(cam({ source: 'rtsp://h/x', decode: 'keyframes', sampleInterval: 0.2 }), h264, false)).toBe('keyframes');
    expect(chooseDecode(cam({ source: 'rtsp://h/x', decode: 'keyframes' }), h264, true)).toBe('all');
  });
  it('select keeps a little slack so jitter never skips an interval', () => {
    expect(selectFilter(1, 'keyframes')).toBe("select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,0.9)'");
    expect(selectFilter(1, 'all')).toBe("select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,0.983)'");
  });
});

describe('full command', () => {
  it('H.264 camera, keyframes: copy to HLS, skip_frame before the input, one scaled MJPEG output', () => {
    const r = build(cam({ source: 'rtsp://u:p@h/x', sampleInterval: 1 }));
    const a = r.args;
    expect(r).toMatchObject({ decode: 'keyframes', encode: false });
    expect(a.indexOf('-skip_frame')).toBeLessThan(a.indexOf('-i'));
    expect(after(a, '-skip_frame')).toBe('nokey');
    expect(after(a, '-c:v')).toBe('copy');
    expect(a).not.toContain('libx264');
    const [h, w] = smartResize(1080, 1920, { factor: 28, minPixels: 3136, maxPixels: 1003520 });
    expect(after(a, '-vf')).toContain(`scale=${w}:${h},showinfo=checksum=0`);
    expect([r.width, r.height]).toEqual([w, h]);
    expect(after(a, '-hls_time')).toBe('2');
    expect(after(a, '-hls_list_size')).toBe('5');
    expect(after(a, '-start_number')).toBe('42');
    expect(after(a, '-hls_flags')).toContain('program_date_time');
    expect(a).not.toContain('append_list');
    expect(a.at(-1)).toBe('pipe:1');
    expect(after(a, '-fps_mode')).toBe('passthrough');
    expect(after(a, '-threads:v')).toBe('1');
    expect(a).toContain('-nostdin');
    expect(a.filter((x) => x === '-i')).toHaveLength(1); // one input: one connection
  });

  it('H.264 camera, full decode: no skip_frame', () => {
    const r = build(cam({ source: 'rtsp://h/x', decode: 'all' }));
    expect(r.decode).toBe('all');
    expect(r.args).not.toContain('-skip_frame');
  });

  it('MJPEG webcam: encoded with libx264 ultrafast/zerolatency, keyframes at segment boundaries', () => {
    const r = build(cam({ source: '/dev/video0' }), mjpeg);
    expect(r).toMatchObject({ encode: true, decode: 'all' });
    expect(after(r.args, '-preset')).toBe('ultrafast');
    expect(after(r.args, '-tune')).toBe('zerolatency');
    expect(after(r.args, '-force_key_frames')).toBe('expr:gte(t,n_forced*2)');
    expect(after(r.args, '-filter_complex')).toMatch(/split=2\[hls\]\[raw\];\[raw\]select=.*scale=1288:728,showinfo/);
    expect(after(r.args, '-filter_complex')).not.toContain('drawbox');
  });

  it('testsrc: the barcode is burned before the split, so HLS and samples both carry it', () => {
    const r = build(cam({ source: 'testsrc' }), { codec: null, width: 1280, height: 720, fps: 30, gopSeconds: null });
    const fc = after(r.args, '-filter_complex')!;
    expect(fc.indexOf('drawbox')).toBeGreaterThan(-1);
    expect(fc.indexOf('drawbox')).toBeLessThan(fc.indexOf('split'));
    expect(r.encode).toBe(true);
  });

  it('H.264 file: copied, looped', () => {
    const r = build(cam({ source: '/v/a.mp4', decode: 'keyframes' }));
    expect(r.args.slice(r.args.indexOf('-stream_loop'), r.args.indexOf('-i'))).toEqual(['-stream_loop', '-1', '-re']);
    expect(after(r.args, '-c:v')).toBe('copy');
  });

  it("sample size follows the engine's grid: the family's factor and engine.maxPixels", () => {
    const s = sampleSize({ width: 1920, height: 1080 }, engineGrid(EngineSchema.parse({ kind: 'openai', maxPixels: 500_000, openai: { family: 'qwen3-vl' } })));
    expect(s.width % 32).toBe(0);
    expect(s.height % 32).toBe(0);
    expect(s.width * s.height).toBeLessThanOrEqual(500_000);
  });
});

describe('split-frame cameras (two processes joined by AccessUnitJoiner)', () => {
  const split: SourceInfo = { ...h264, splitFrames: true };

  it('copies the camera into FLV on the first process and reads it back, unprobed, on the second', () => {
    const r = build(cam({ source: 'rtsp://u:p@h/x', decode: 'keyframes' }), split);
    expect(r.frontArgs).toBeDefined();
    const front = r.frontArgs!.join(' ');
    expect(front).toContain('-rtsp_transport tcp');
    expect(front).toContain('-i rtsp://u:p@h/x');
    expect(front).toMatch(/-map 0:v:0 -c:v copy -an -flush_packets 1 -f flv pipe:1$/); // flushed per packet: frame time
    // One connection: the second process never opens the camera.
    expect(r.args.join(' ')).not.toContain('rtsp://');
    expect(r.args.join(' ')).toContain('-probesize 32 -analyzeduration 0 -f flv -i pipe:0');
    expect(after(r.args, '-skip_frame')).toBe('nokey');
    expect(r.args.filter((a) => a === '-analyzeduration').length).toBe(2); // the later one (0) wins
  });

  it('stays one process for whole frames, and for sources encoded here', () => {
    expect(build(cam({ source: 'rtsp://h/x' })).frontArgs).toBeUndefined();
    expect(build(cam({ source: 'rtsp://h/x' }), { ...mjpeg, splitFrames: true }).frontArgs).toBeUndefined();
  });
});
