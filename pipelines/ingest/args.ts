// Pure ffmpeg argument building: one process per camera, one input (one connection), two outputs:
//   1. HLS live window: the camera's H.264 copied as is, or encoded with libx264 when the source is not H.264
//      (MJPEG webcams, the synthetic testsrc demo scene);
//   2. sampled frames: select one frame per sampling interval, scale ONCE to the model grid, showinfo (for the
//      PTS), MJPEG on stdout. The k-th JPEG on stdout pairs with the k-th showinfo line on stderr.
import type { CameraConfig, HlsConfig, IngestConfig } from '../../config/schema.ts';
import { smartResize, type GridOptions } from '../grid.ts';
import { barcodeFilter } from './barcode.ts';
import { DEMO_SCENE, demoSceneGraph } from './demo-scene.ts';
import { FFMPEG_PLAYLIST } from './paths.ts';
import { hlsEncodeTimingArgs, networkInputArgs, whitelistArgs } from './sources.ts';
import { sourceKindOf, type SourceKind } from '../../config/source.ts';
import { join } from 'node:path';

export type { SourceKind };
export type DecodeMode = 'keyframes' | 'all';

/** What a probe learned about the source (see probe.ts). */
export interface SourceInfo {
  codec: string | null;
  width: number;
  height: number;
  fps: number | null;
  /** Longest keyframe interval seen while probing, seconds; null when fewer than two keyframes were seen. */
  gopSeconds: number | null;
  /** Frames are reordered (B-frames: main/high profile), as the decoder reported it (`has_b_frames`). */
  bFrames?: boolean;
  /**
   * Frames reach ffmpeg split into several packets with one timestamp (one per slice: see access-units.ts). Runs
   * then join them in a second ffmpeg (merged-run.ts). Absent = false.
   */
  splitFrames?: boolean;
}

/** The built-in synthetic camera (`testsrc`): the demo scene (demo-scene.ts) with the frame counter barcode burned in. */
export const TESTSRC = DEMO_SCENE;

export const SAMPLE_FILTER_LABEL = 'sample';

export const sourceKind = sourceKindOf;

/** Input arguments derived from the source (ending with `-i <input>`), unless config `inputArgs` replaces them. */
export function inputArgs(camera: CameraConfig, ingest: IngestConfig): string[] {
  if (camera.inputArgs) {
    // `inputArgs` may end before the input (then the source is the input) or carry its own `-i`.
    return camera.inputArgs.includes('-i') ? [...camera.inputArgs] : [...camera.inputArgs, '-i', camera.source];
  }
  const kind = sourceKind(camera.source);
  switch (kind) {
    case 'rtsp':
      return [
        ...whitelistArgs('rtsp'),
        '-rtsp_transport', ingest.rtspTransport,
        // RTSP's socket timeout is in microseconds; a silent camera makes ffmpeg exit after about twice it.
        '-timeout', String(Math.round(ingest.rtspTimeout * 1e6)),
        '-i', camera.source,
      ];
    case 'v4l2':
      return ['-f', 'v4l2', '-input_format', 'mjpeg', '-i', camera.source];
    case 'file':
      return [...whitelistArgs('file'), '-stream_loop', '-1', '-re', '-i', camera.source];
    case 'testsrc':
      return ['-re', '-f', 'lavfi', '-i', demoSceneGraph()];
    default:
      return networkInputArgs(kind, camera.source, ingest);
  }
}

/** The same input for ffprobe: pacing and looping options mean nothing to a probe (and -re is not one of its options). */
export function probeInputArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-re') continue;
    if (a === '-stream_loop' || a === '-readrate') {
      i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

/** HLS needs H.264: copy it when the source has it, encode otherwise. testsrc is always encoded (it is raw). */
export function needsEncode(camera: CameraConfig, info: SourceInfo): boolean {
  if (!camera.inputArgs && sourceKind(camera.source) === 'testsrc') return true;
  return info.codec !== 'h264';
}

/**
 * Decode mode for sampling. Keyframe-only decoding (`-skip_frame nokey`) is ~5x cheaper but can only sample as
 * often as keyframes come, so `auto` picks it when the probed GOP is at most the sampling interval. When the
 * source is encoded here every frame is decoded anyway (the encoder needs them), so the mode is `all`.
 */
export function chooseDecode(camera: CameraConfig, info: SourceInfo, encode: boolean): DecodeMode {
  if (encode) return 'all';
  if (camera.decode !== 'auto') return camera.decode;
  const tolerance = 0.05 * camera.sampleInterval;
  return info.gopSeconds !== null && info.gopSeconds <= camera.sampleInterval + tolerance ? 'keyframes' : 'all';
}

/** Size of sampled frames: on the model grid, inside the pixel budget. */
export function sampleSize(info: Pick<SourceInfo, 'width' | 'height'>, grid: GridOptions): { width: number; height: number } {
  const [height, width] = smartResize(info.height, info.width, grid);
  return { width, height };
}

/**
 * `select` keeps true source timestamps (the `fps` filter would snap them to a grid). The gap is shortened a
 * little so timestamp jitter never skips a whole interval: by half a frame in full decode, by 10% of the interval
 * in keyframe mode (a 1 s GOP sampled every 1 s must take every keyframe, even one arriving at 0.999 s).
 */
export function selectFilter(interval: number, decode: DecodeMode): string {
  const gap = decode === 'keyframes' ? interval * 0.9 : Math.max(interval - 0.017, interval / 2);
  return `select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,${round6(gap)})'`;
}

export interface RunArgsInput {
  camera: CameraConfig;
  ingest: IngestConfig;
  hls: HlsConfig;
  hlsDir: string;
  /** The engine's grid and pixel budget (handed down by the composition root): frames are scaled onto it once. */
  grid: GridOptions;
  /** First segment number of this run: last segment number of any earlier run + 1. */
  startNumber: number;
  info: SourceInfo;
}

export interface RunArgs {
  args: string[];
  /** Set when the run is two processes (info.splitFrames): the camera-side ffmpeg, copying video into FLV. */
  frontArgs?: string[];
  decode: DecodeMode;
  encode: boolean;
  width: number;
  height: number;
}

export function buildFfmpegArgs(input: RunArgsInput): RunArgs {
  const { camera, ingest, info } = input;
  const encode = needsEncode(camera, info);
  const decode = chooseDecode(camera, info, encode);
  const size = sampleSize(info, input.grid);
  const sample = `${selectFilter(camera.sampleInterval, decode)},scale=${size.width}:${size.height},showinfo=checksum=0`;
  // -debug_ts: one stderr line per packet read, the run's progress and wall clock (packet-clock.ts).
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-debug_ts', '-y'];
  // Keyframe-only decode, single-threaded: frame threading would hold keyframes back by seconds at 1 fps.
  if (decode === 'keyframes') {
    args.push('-skip_frame', 'nokey', '-threads', '1');
    // Stream probing waits for 6 decoded H.264 frames (to guess the reorder delay); with keyframes only that is
    // 6 GOPs (3 s at a 0.5 s GOP) before the first frame. Cap it at two GOPs: the probe already knows the stream.
    args.push('-analyzeduration', String(Math.round(Math.max(1, 2 * (info.gopSeconds ?? camera.sampleInterval)) * 1e6)));
  }
  const joined = !encode && info.splitFrames === true;
  args.push(...(joined ? JOINED_INPUT : inputArgs(camera, ingest)));
  if (encode) {
    const pre = !camera.inputArgs && sourceKind(camera.source) === 'testsrc' ? `${barcodeFilter()},` : '';
    args.push('-filter_complex', `[0:v:0]${pre}format=yuv420p,split=2[hls][raw];[raw]${sample}[${SAMPLE_FILTER_LABEL}]`);
    args.push('-map', '[hls]', ...x264Args(input.hls.segmentSeconds), ...hlsEncodeTimingArgs(sourceKind(camera.source)), ...hlsArgs(input));
    args.push('-map', `[${SAMPLE_FILTER_LABEL}]`, ...jpegArgs(ingest));
  } else {
    args.push('-map', '0:v:0', '-c:v', 'copy', '-bsf:v', info.bFrames ? COPY_FROM_TIMED_KEYFRAME : TIME_FIRST_KEYFRAME, ...hlsArgs(input));
    args.push('-map', '0:v:0', '-vf', sample, ...jpegArgs(ingest));
  }
  return { args, decode, encode, ...size, ...(joined ? { frontArgs: frontArgs(camera, ingest) } : {}) };
}

/**
 * The second process of a joined run reads whole frames (FLV) from the joiner on stdin. No stream probing: the FLV
 * header and AVC sequence header say everything, and probing would hold the first frame back by up to 5 s on top of
 * the camera side's own probe (a 4 s GOP camera then trips the 8 s stall watchdog before its first frame).
 */
const JOINED_INPUT = ['-probesize', '32', '-analyzeduration', '0', '-f', 'flv', '-i', 'pipe:0'];

/** The camera-side process of a joined run: the one connection, video copied into FLV on stdout (each packet flushed
 * at once: buffered output would hold frames back and skew the packet clock, packet-clock.ts). */
export function frontArgs(camera: CameraConfig, ingest: IngestConfig): string[] {
  return ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', ...inputArgs(camera, ingest), '-map', '0:v:0', '-c:v', 'copy', '-an', '-flush_packets', '1', '-f', 'flv', 'pipe:1'];
}

/**
 * An RTSP session that starts on a keyframe hands that first keyframe over without a PTS (ffmpeg's H.264 parser
 * loses it). With B-frames its time cannot be guessed (the MPEG-TS muxer refuses the packet: "first pts and dts
 * value must be set", and the run dies), so copying starts at the first keyframe that carries a PTS: such a session
 * loses its first GOP, sessions joined mid-GOP lose nothing.
 */
export const COPY_FROM_TIMED_KEYFRAME = 'noise=drop=not(st(0\\,ld(0)+key*not(eq(pts\\,nopts))))';

/** Without B-frames the untimed first keyframe is simply the frame before the next packet. */
const FIRST_KEYFRAME_TIME = 'if(eq(PTS\\,NOPTS)\\,if(eq(NEXT_PTS\\,NOPTS)\\,DTS\\,NEXT_PTS-DURATION)\\,PTS)';
export const TIME_FIRST_KEYFRAME = `setts=pts=${FIRST_KEYFRAME_TIME}:dts=${FIRST_KEYFRAME_TIME}`;

function x264Args(segmentSeconds: number): string[] {
  return [
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    // A keyframe at every segment boundary: segments cut on time, and keyframe sampling stays possible downstream.
    '-force_key_frames', `expr:gte(t,n_forced*${segmentSeconds})`, '-sc_threshold', '0',
  ];
}

/**
 * Added to every HLS timestamp: B-frame streams start with a negative DTS, which the muxer would otherwise shift by
 * a run-dependent amount, and the PDT anchor needs segment PTS = PTS + a known constant (ts-pts.ts).
 */
export const HLS_TS_OFFSET_SECONDS = 10;

function hlsArgs(input: RunArgsInput): string[] {
  const { hls, hlsDir, startNumber } = input;
  return [
    '-an', '-output_ts_offset', String(HLS_TS_OFFSET_SECONDS), '-f', 'hls',
    '-hls_time', String(hls.segmentSeconds),
    '-hls_list_size', String(hls.liveSegments),
    // No delete_segments: retention moves segments leaving the window into the recordings folder.
    '-hls_flags', 'program_date_time+independent_segments+temp_file',
    '-start_number', String(startNumber),
    '-hls_segment_filename', join(hlsDir, 'seg-%d.ts'),
    join(hlsDir, FFMPEG_PLAYLIST),
  ];
}

function jpegArgs(ingest: IngestConfig): string[] {
  // passthrough: without it ffmpeg duplicates sampled frames back to the source rate.
  // One encoder thread: the threaded MJPEG encoder holds one frame back (~0.5 s extra latency at 2 fps).
  return [
    '-an', '-fps_mode', 'passthrough', '-c:v', 'mjpeg', '-q:v', String(ingest.jpegQuality), '-threads:v', '1',
    '-f', 'image2pipe', 'pipe:1',
  ];
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
