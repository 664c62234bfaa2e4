// Whether a camera's live video is copied or transcoded, why, and what transcoding costs. Browsers get H.264 in
// HLS: an H.264 camera is copied as is (about 1% of a core), anything else is decoded and re-encoded with libx264
// here. H.265 is the common case (a default on many cameras) and Chromium plays no HEVC, so those cameras cost
// about 30x more CPU than an H.264 one. Made visible in the camera snapshot, the API, the dashboard and `vigil
// doctor` (which adds the estimates up against the cores).
import type { CameraConfig } from '../../config/schema.ts';
import type { SourceInfo } from './args.ts';
import type { VideoPath } from './types.ts';

/**
 * CPU (in cores) to decode one 1080p30 H.265 camera and encode it to H.264 (libx264 ultrafast) with the sampled
 * frames: test/bench/transcode.bench.ts measured 0.40 (quiet scene) to 0.55 (grainy) per second of video on the
 * 2-core dev VM, against 0.014-0.018 for the same camera in H.264, copied (28-30x). Other sizes and rates scale
 * with pixels per second. Faster cores need less; this is a planning estimate, not a limit.
 */
export const TRANSCODE_CORES_1080P30 = 0.4;

const CODEC_NAMES: Record<string, string> = { hevc: 'H.265', h264: 'H.264', mjpeg: 'MJPEG', mpeg4: 'MPEG-4', av1: 'AV1', vp9: 'VP9', vp8: 'VP8' };

export function codecName(codec: string | null): string {
  return codec === null ? 'raw' : (CODEC_NAMES[codec] ?? codec);
}

/** Estimated cores to transcode a source of this size and rate (30 fps assumed when unknown). */
export function transcodeCores(info: Pick<SourceInfo, 'width' | 'height' | 'fps'>): number {
  const fps = info.fps && info.fps > 0 && info.fps <= 120 ? info.fps : 30;
  return (TRANSCODE_CORES_1080P30 * info.width * info.height * fps) / (1920 * 1080 * 30);
}

/** How the live HLS is made from this source, and, when transcoded, why in words an operator can act on. */
export function videoPath(info: SourceInfo, encode: boolean, camera: Pick<CameraConfig, 'source' | 'inputArgs'>): VideoPath {
  if (!encode) return { mode: 'copy', codec: info.codec, reason: null };
  const cost = `about ${Math.max(1, Math.round(transcodeCores(info) * 100))}% of a core at ${info.width}x${info.height}`;
  let why: string;
  if (info.codec === 'hevc') why = 'H.265 camera: browsers (Chromium) cannot play HEVC, so Vigil re-encodes it to H.264';
  else if (info.codec === null && camera.source === 'testsrc' && !camera.inputArgs) why = 'synthetic test source: encoded to H.264 here';
  else why = `${codecName(info.codec)} source: browsers need H.264, so Vigil encodes it`;
  const fix = info.codec === 'hevc' ? '; set the camera (or its sub-stream) to H.264 to save the CPU' : '';
  return { mode: 'transcode', codec: info.codec, reason: `${why} (${cost})${fix}` };
}
