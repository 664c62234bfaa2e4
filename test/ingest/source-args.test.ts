// ffmpeg input recipes per network kind: explicit protocol whitelist, forced demuxer, wall-clock timestamps for
// MJPEG (kept through the HLS encode), live edge for HLS; probes get the same whitelist.
import { describe, expect, it } from 'vitest';
import { CameraSchema, EngineSchema, HlsSchema, IngestSchema } from '../../config/schema.ts';
import { engineGrid } from '../../pipelines/engine/create.ts';
import { buildFfmpegArgs, inputArgs, probeInputArgs, type SourceInfo } from '../../pipelines/ingest/args.ts';

const ingest = IngestSchema.parse({ rtspTimeout: 2 });
const cam = (source: string) => CameraSchema.parse({ id: 'c', source });
const mjpeg: SourceInfo = { codec: 'mjpeg', width: 640, height: 480, fps: 25, gopSeconds: 0.04 };
const h264: SourceInfo = { codec: 'h264', width: 1920, height: 1080, fps: 25, gopSeconds: 1 };
const build = (source: string, info: SourceInfo) =>
  buildFfmpegArgs({ camera: cam(source), ingest, hls: HlsSchema.parse({}), hlsDir: '/d', grid: engineGrid(EngineSchema.parse({})), startNumber: 0, info }).args;
/** The options given to the output whose file name is `file`. */
function outputOptions(args: string[], file: string): string[] {
  const end = args.indexOf(file);
  const start = args.lastIndexOf('-map', end);
  return args.slice(start, end);
}

describe('network input recipes', () => {
  it('HTTP MJPEG: http(s)/tcp/tls only, mpjpeg demuxer, wall-clock timestamps, I/O timeout', () => {
    expect(inputArgs(cam('http://u:p@cam:81/stream'), ingest)).toEqual([
      '-protocol_whitelist', 'http,https,tcp,tls', '-rw_timeout', '2000000', '-use_wallclock_as_timestamps', '1', '-f', 'mpjpeg',
      '-i', 'http://u:p@cam:81/stream',
    ]);
  });
  it('HLS: hls demuxer at the live edge; crypto allowed for AES-128 segments', () => {
    expect(inputArgs(cam('https://nvr/live/index.m3u8'), ingest)).toEqual([
      '-protocol_whitelist', 'http,https,tcp,tls,crypto', '-rw_timeout', '2000000', '-f', 'hls', '-live_start_index', '-1',
      '-i', 'https://nvr/live/index.m3u8',
    ]);
  });
  it('RTMP and SRT', () => {
    expect(inputArgs(cam('rtmp://nvr/bcs/channel0_main.bcs'), ingest)).toEqual([
      '-protocol_whitelist', 'rtmp,rtmps,tcp,tls', '-rw_timeout', '2000000', '-i', 'rtmp://nvr/bcs/channel0_main.bcs',
    ]);
    expect(inputArgs(cam('srt://h:9000'), ingest)).toEqual(['-protocol_whitelist', 'srt', '-rw_timeout', '2000000', '-f', 'mpegts', '-i', 'srt://h:9000']);
  });
  it('the probe keeps whitelist, demuxer and timestamp options', () => {
    expect(probeInputArgs(inputArgs(cam('http://cam/video.mjpg'), ingest))).toEqual(inputArgs(cam('http://cam/video.mjpg'), ingest));
  });
  it('MJPEG is encoded for HLS keeping its wall-clock frame times (vfr); sampled frames pass through', () => {
    const args = build('http://cam/video.mjpg', mjpeg);
    expect(outputOptions(args, '/d/ffmpeg.m3u8')).toEqual(expect.arrayContaining(['-c:v', 'libx264', '-fps_mode', 'vfr']));
    expect(outputOptions(args, 'pipe:1')).toEqual(expect.arrayContaining(['-fps_mode', 'passthrough']));
  });
  it('H.264 over RTMP/SRT/HLS is copied, with the source timestamps', () => {
    for (const src of ['rtmp://h/app/s', 'srt://h:1', 'http://h/i.m3u8']) {
      const hlsOut = outputOptions(build(src, h264), '/d/ffmpeg.m3u8');
      expect(hlsOut).toEqual(expect.arrayContaining(['-c:v', 'copy']));
      expect(hlsOut).not.toContain('-fps_mode');
    }
  });
});
