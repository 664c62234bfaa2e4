// Learns what the camera sends before the long-running ffmpeg starts: codec (copy or encode for HLS), size (the
// sampled frames are scaled to the model grid in ffmpeg, which needs it up front) and the GOP (decode `auto`).
// The GOP comes from packet flags over a short read window: the longest gap between keyframes seen, or null when
// fewer than two keyframes arrived (then the GOP is longer than the window, too long for keyframe sampling).
// ffprobe is spawned directly: fluent-ffmpeg's ffprobe() parses streams and format only, not packets, and the
// same single connection gives all three answers. Probing runs once per camera (its result is cached across
// restarts) so a reconnect costs one connection, not two.
import { spawnChild } from './child.ts';
import type { SourceInfo } from './args.ts';

export interface ProbeOptions {
  ffprobePath: string;
  /** Input arguments ending with `-i <input>` (see args.ts probeInputArgs). */
  input: string[];
  /** Seconds of packets to read for the GOP. */
  windowSeconds: number;
  /** Kill the probe after this many ms. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export class ProbeError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'ProbeError';
  }
}

interface ProbeJson {
  streams?: { codec_name?: string; width?: number; height?: number; r_frame_rate?: string; has_b_frames?: number }[];
  packets?: ProbePacket[];
}

export interface ProbePacket {
  pts?: number;
  pts_time?: string;
  flags?: string;
}

export async function probeSource(opts: ProbeOptions): Promise<SourceInfo> {
  const args = [
    '-v', 'error', ...opts.input.slice(0, -2), '-select_streams', 'v:0',
    '-show_entries', 'stream=codec_name,width,height,r_frame_rate,has_b_frames:packet=pts,pts_time,flags',
    '-read_intervals', `%+${opts.windowSeconds}`, '-of', 'json', ...opts.input.slice(-2),
  ];
  const { code, stdout, stderr } = await run(opts.ffprobePath, args, opts.timeoutMs, opts.signal);
  let json: ProbeJson;
  try {
    json = JSON.parse(stdout) as ProbeJson;
  } catch {
    throw new ProbeError(code === null ? 'probe timed out' : `probe failed (exit ${code})`, stderr);
  }
  const stream = json.streams?.[0];
  if (!stream?.width || !stream.height) throw new ProbeError('no video stream found', stderr);
  return {
    codec: stream.codec_name ?? null,
    width: stream.width,
    height: stream.height,
    fps: parseRate(stream.r_frame_rate),
    gopSeconds: longestKeyframeGap(json.packets ?? []),
    bFrames: (stream.has_b_frames ?? 0) > 0,
    splitFrames: splitFrames(json.packets ?? []),
  };
}

/**
 * Longest interval between consecutive keyframes, or null with fewer than two. Packets with one timestamp are one
 * frame (the slices of a keyframe can arrive as several keyframe packets: access-units.ts), never a 0 s GOP.
 */
export function longestKeyframeGap(packets: readonly ProbePacket[]): number | null {
  const times = packets.filter((p) => p.flags?.startsWith('K') && p.pts_time !== undefined).map((p) => Number(p.pts_time));
  const keys = times.filter((t, i) => i === 0 || t !== times[i - 1]);
  if (keys.length < 2) return null;
  let gap = 0;
  for (let i = 1; i < keys.length; i++) gap = Math.max(gap, keys[i]! - keys[i - 1]!);
  return gap;
}

/** Whether a frame came as several packets: consecutive packets with one timestamp (pts known). */
export function splitFrames(packets: readonly ProbePacket[]): boolean {
  return packets.some((p, i) => i > 0 && p.pts !== undefined && p.pts === packets[i - 1]!.pts);
}

function parseRate(r: string | undefined): number | null {
  const m = /^(\d+)\/(\d+)$/.exec(r ?? '');
  return m && Number(m[2]) ? Number(m[1]) / Number(m[2]) : null;
}

function run(cmd: string, args: string[], timeoutMs: number, signal?: AbortSignal): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawnChild(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], signal, killSignal: 'SIGKILL' }, (err) => (stderr += String(err)));
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
