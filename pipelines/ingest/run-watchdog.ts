// The stall watchdog's judgement of one ffmpeg run. Progress is judged on packets read from the camera
// (packet-clock.ts), not on sampled frames: a 10 s GOP camera has nothing to decode for up to 10 s after joining
// mid-GOP, and a camera sampled every 10 s yields one frame per 10 s, while data flows all along. Sampled frames
// have their own, longer limit, scaled to the sampling interval and the GOP, so a decoder that stopped producing
// frames while packets still arrive is restarted too.

export interface WatchdogLimits {
  /** Seconds without any packet before the run is ended. */
  dataSeconds: number;
  /**
   * Seconds from spawn to the first packet line: ffmpeg reports packets only once it has probed the stream, which
   * needs a decodable keyframe, so a session joined mid-GOP can wait up to one GOP first.
   */
  startSeconds: number;
  /** Seconds without a sampled frame (or, before the first one, since spawn) while packets flow. */
  frameSeconds: number;
}

/** Longest GOP assumed when the probe saw fewer than two keyframes ("smart codec" modes go up to about 10 s). */
export const UNKNOWN_GOP_SECONDS = 12;

/**
 * `gopSeconds` as probed (null: longer than the probe window, so unknown): the first frame of a run can wait one GOP
 * for a keyframe, and a keyframe-only decode yields one frame per GOP.
 */
export function watchdogLimits(stallTimeout: number, sampleInterval: number, gopSeconds: number | null): WatchdogLimits {
  const gop = gopSeconds ?? Math.max(UNKNOWN_GOP_SECONDS, 2 * stallTimeout);
  return { dataSeconds: stallTimeout, startSeconds: stallTimeout + gop, frameSeconds: stallTimeout + Math.max(2 * sampleInterval, gop) };
}

export interface RunFacts {
  now: number;
  spawnedAt: number;
  lastPacketAt: number | null;
  firstFrameAt: number | null;
  lastFrameAt: number | null;
}

/** Why the run must end now (what happened, then what to do), or null while it makes progress. */
export function stallReason(f: RunFacts, limits: WatchdogLimits): string | null {
  const started = f.firstFrameAt !== null;
  if (f.lastPacketAt === null) {
    return f.now - f.spawnedAt >= limits.startSeconds * 1000 ? noPicture(limits.startSeconds) : null;
  }
  if (f.now - f.lastPacketAt >= limits.dataSeconds * 1000) return started ? `no data for ${fmt(limits.dataSeconds)} s` : noPicture(limits.dataSeconds);
  if (f.now - (f.lastFrameAt ?? f.spawnedAt) >= limits.frameSeconds * 1000) {
    return started
      ? `no frame decoded for ${fmt(limits.frameSeconds)} s while data flows`
      : `data arrives but no picture was decoded in ${fmt(limits.frameSeconds)} s: check the camera's video codec settings`;
  }
  return null;
}

const noPicture = (s: number) => `no picture within ${fmt(s)} s of starting: check the URL is the camera's video stream`;

function fmt(s: number): string {
  return String(Math.round(s * 10) / 10);
}
