// Notices that a camera now sends something else than its probe saw (a reboot into another codec or resolution):
// ffmpeg prints the input's streams when a run opens the camera, e.g.
//   "  Stream #0:0: Video: hevc (Main), yuv420p(tv), 1920x1080, 25 fps, 25 tbr, 90k tbn"
// The supervisor's probe is cached across restarts (one connection per reconnect), so without this check a camera
// that changed would be copied, scaled and sampled with the old facts for as long as Vigil runs.
import type { SourceInfo } from './args.ts';

const INPUT_VIDEO = /^\s*Stream #0:\d+(?:\[[^\]]*\])?(?:\([^)]*\))?: Video: (\w+).*?, (\d{2,5})x(\d{2,5})\b/;

export interface SeenStream {
  codec: string;
  width: number;
  height: number;
}

/** Reads the first video stream of the run's input from ffmpeg's stderr (lines before "Output #0" only). */
export class InputStreamWatch {
  #done = false;

  push(line: string): SeenStream | null {
    if (this.#done) return null;
    if (line.startsWith('Output #') || line.startsWith('Stream mapping')) {
      this.#done = true;
      return null;
    }
    const m = INPUT_VIDEO.exec(line);
    if (!m) return null;
    this.#done = true;
    return { codec: m[1]!, width: Number(m[2]), height: Number(m[3]) };
  }
}

/** What changed since the probe, in words, or null when the run sees what the probe saw. */
export function sourceChange(probed: SourceInfo, seen: SeenStream): string | null {
  if (probed.codec === null) return null; // encoded here from a raw source: nothing was probed to compare
  if (probed.codec === seen.codec && probed.width === seen.width && probed.height === seen.height) return null;
  return `camera now sends ${seen.codec} ${seen.width}x${seen.height} (probed ${probed.codec} ${probed.width}x${probed.height}): probing again`;
}
