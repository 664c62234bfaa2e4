// Where a camera's files live on disk. The server serves these folders as they are, so the layout is a contract:
//   <dataDir>/hls/<cameraId>/live.m3u8 + seg-<n>.ts   (live window, rewritten fresh on every ffmpeg run)
//   <dataDir>/hls/<cameraId>/ffmpeg.m3u8   (what ffmpeg writes; live.m3u8 is it with PDTs on the camera's clock)
//   <dataDir>/recordings/<cameraId>/seg-<n>.ts   (segments that left the live window; indexed in the store)
import { join } from 'node:path';

export const LIVE_PLAYLIST = 'live.m3u8';
/** ffmpeg's own playlist (its PDTs are its writer's start time); players get LIVE_PLAYLIST. */
export const FFMPEG_PLAYLIST = 'ffmpeg.m3u8';

export function cameraHlsDir(dataDir: string, id: string): string {
  return join(dataDir, 'hls', id);
}

export function cameraRecordingDir(dataDir: string, id: string): string {
  return join(dataDir, 'recordings', id);
}

/** Segment file name for a global (across runs) sequence number; `-start_number` keeps numbers unique. */
export function segmentName(seq: number): string {
  return `seg-${seq}.ts`;
}

/** The sequence number of a segment file name, or null for anything else. */
export function segmentSeq(name: string): number | null {
  const m = /^seg-(\d+)\.ts$/.exec(name);
  return m ? Number(m[1]) : null;
}
