// ffmpeg input recipes for the source kinds beyond RTSP, webcams, files and testsrc (see config/source.ts for how a
// source string becomes a kind, and why pseudo-protocols are refused before anything runs).
//
// Every network kind and files get an explicit `-protocol_whitelist`: even a URL that passed validation cannot make
// ffmpeg open another protocol later (an HLS playlist listing `file:` or `concat:` segments, a redirect to
// `data:`). The demuxer is forced where the scheme alone says which it is, so probing never guesses.
//
// Timestamps: HTTP MJPEG cameras send JPEGs without any time. ffmpeg's mpjpeg demuxer then numbers them at 25 fps,
// so a 10 fps camera played 0.4x slow and sampled every 2.5 s. `-use_wallclock_as_timestamps` stamps each JPEG
// with the time it arrived (the camera's real clock, to within network jitter; the demuxer's 1/25 s timebase
// rounds it to 40 ms), and the HLS encode keeps those times (`-fps_mode vfr`) instead of filling a 25 fps grid
// with duplicates. HLS, RTMP and SRT carry the encoder's own timestamps.
import type { IngestConfig } from '../../config/schema.ts';
import type { SourceKind } from '../../config/source.ts';

export type NetworkKind = Exclude<SourceKind, 'v4l2' | 'file' | 'testsrc'>;

/** Protocols each kind may open. RTSP's control channel is `tcp` (`tls` for rtsps), media `rtp`/`udp`/`srtp`. */
export const PROTOCOL_WHITELIST: Readonly<Record<NetworkKind | 'file', string>> = Object.freeze({
  rtsp: 'tcp,udp,rtp,srtp,tls',
  mjpeg: 'http,https,tcp,tls',
  hls: 'http,https,tcp,tls,crypto',
  rtmp: 'rtmp,rtmps,tcp,tls',
  srt: 'srt',
  file: 'file',
});

export function whitelistArgs(kind: NetworkKind | 'file'): string[] {
  return ['-protocol_whitelist', PROTOCOL_WHITELIST[kind]];
}

/** Input arguments (ending with `-i <url>`) for the kinds added beside RTSP. */
export function networkInputArgs(kind: Exclude<NetworkKind, 'rtsp'>, url: string, ingest: IngestConfig): string[] {
  // rw_timeout (microseconds) ends a read that hangs on a silent camera; the stall watchdog backs it up.
  const common = [...whitelistArgs(kind), '-rw_timeout', String(Math.round(ingest.rtspTimeout * 1e6))];
  switch (kind) {
    case 'mjpeg':
      return [...common, '-use_wallclock_as_timestamps', '1', '-f', 'mpjpeg', '-i', url];
    case 'hls':
      // Start at the live edge: the default (3 segments back) bursts old video, then lags the camera by them.
      return [...common, '-f', 'hls', '-live_start_index', '-1', '-i', url];
    case 'rtmp':
      return [...common, '-i', url];
    case 'srt':
      return [...common, '-f', 'mpegts', '-i', url];
  }
}

/** Whether timestamps come from the wall clock on arrival (the source sends none). */
export function wallClockTimestamps(kind: SourceKind): boolean {
  return kind === 'mjpeg';
}

/** Options for the encoded HLS output: keep wall-clock frame times as they are (no 25 fps grid, no duplicates). */
export function hlsEncodeTimingArgs(kind: SourceKind): string[] {
  return wallClockTimestamps(kind) ? ['-fps_mode', 'vfr'] : [];
}
