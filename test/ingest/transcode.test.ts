// Defect 7 (pure part): which sources are transcoded, the words that say why, and the CPU estimate doctor sums.
import { describe, expect, it } from 'vitest';
import { TRANSCODE_CORES_1080P30, transcodeCores, videoPath } from '../../pipelines/ingest/transcode.ts';
import type { SourceInfo } from '../../pipelines/ingest/args.ts';

const info = (codec: string | null, width = 1920, height = 1080, fps: number | null = 30): SourceInfo => ({ codec, width, height, fps, gopSeconds: 1 });
const cam = { source: 'rtsp://cam/s', inputArgs: undefined };

describe('video path', () => {
  it('H.264 is copied, with no reason', () => {
    expect(videoPath(info('h264'), false, cam)).toEqual({ mode: 'copy', codec: 'h264', reason: null });
  });
  it('H.265 is transcoded: why (Chromium has no HEVC), the cost and the fix', () => {
    expect(videoPath(info('hevc'), true, cam)).toEqual({
      mode: 'transcode',
      codec: 'hevc',
      reason: `H.265 camera: browsers (Chromium) cannot play HEVC, so Vigil re-encodes it to H.264 (about ${Math.round(TRANSCODE_CORES_1080P30 * 100)}% of a core at 1920x1080); set the camera (or its sub-stream) to H.264 to save the CPU`,
    });
  });
  it('MJPEG and synthetic sources are encoded, said plainly', () => {
    expect(videoPath(info('mjpeg', 640, 480, 10), true, cam).reason).toMatch(/^MJPEG source: browsers need H\.264, so Vigil encodes it \(about 2% of a core at 640x480\)$/);
    expect(videoPath(info(null, 1280, 720), true, { source: 'testsrc', inputArgs: undefined }).reason).toMatch(/^synthetic test source/);
  });
  it('cost scales with pixels per second; unknown or absurd rates count as 30 fps', () => {
    expect(transcodeCores(info('hevc'))).toBeCloseTo(TRANSCODE_CORES_1080P30);
    expect(transcodeCores(info('hevc', 3840, 2160, 15))).toBeCloseTo(2 * TRANSCODE_CORES_1080P30);
    expect(transcodeCores(info('hevc', 1920, 1080, null))).toBeCloseTo(TRANSCODE_CORES_1080P30);
    expect(transcodeCores(info('hevc', 1920, 1080, 90000))).toBeCloseTo(TRANSCODE_CORES_1080P30);
  });
});
