// Frame time against the camera's own clock: the test camera burns the wall clock (Unix ms) into every frame when it
// makes it. A sampled frame's pdt must be within 250 ms of that capture time, and the HLS frame a player shows at
// that PDT must be the same frame (the live overlay keys on pdt). Covers sessions joined mid-GOP, B-frame streams
// (which also used to die at once when the session started on a keyframe), keyframe-start sessions and cameras
// that send a frame as several packets (joined runs: the frames reach the sampling ffmpeg through FLV).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlaylist, type MediaPlaylist } from '../../pipelines/ingest/hls-playlist.ts';
import { cameraHlsDir, LIVE_PLAYLIST } from '../../pipelines/ingest/paths.ts';
import type { Frame } from '../../pipelines/ingest/types.ts';
import { readClock, readClockFromImage } from '../support/barcode.ts';
import { startRtspServer, type RtspFeedOptions } from '../support/rtsp.ts';
import { decodeSegment, isState, makeSupervisor, nextFrames, sleep, waitForState } from './helpers.ts';

const TOLERANCE_MS = 250;
/** Two frames at 30 fps plus the test camera's capture jitter. */
const NEIGHBOUR_MS = 80;
const W = 640;
const H = 360;

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'vigil-frametime-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** The HLS frame shown at `pdt`: the decoded frame nearest to it across the playlist's segments. */
function hlsFrameAt(hlsDir: string, pl: MediaPlaylist, pdt: number): { at: number; clock: number | null } | null {
  let best: { at: number; clock: number | null } | null = null;
  for (const seg of pl.segments.filter((s) => s.pdt! - 100 <= pdt && pdt < s.pdt! + s.duration * 1000 + 100)) {
    for (const d of decodeSegment(join(hlsDir, seg.uri), W, H)) {
      const at = seg.pdt! + d.offset * 1000;
      if (!best || Math.abs(at - pdt) < Math.abs(best.at - pdt)) best = { at, clock: readClock(d.rgb, W, H) };
    }
  }
  return best;
}

const cases: [string, RtspFeedOptions][] = [
  ['H.264 baseline joined mid-GOP', { profile: 'baseline', gop: 30 }],
  ['H.264 high with B-frames joined mid-GOP', { profile: 'high', bframes: 2, gop: 30 }],
  ['H.264 main with B-frames, session starting on a keyframe', { profile: 'main', bframes: 2, gop: 30, join: 'keyframe' }],
  ['H.264 baseline, session starting on a keyframe', { profile: 'baseline', gop: 30, join: 'keyframe' }],
  ['H.264 high with 2 slices per frame (slices joined in a second ffmpeg)', { profile: 'high', slices: 2, gop: 30 }],
];

describe('frame time follows the camera clock', () => {
  for (const [name, opts] of cases) {
    it(name, async () => {
      const cam = await startRtspServer({ width: W, height: H, ...opts });
      const h = makeSupervisor(dataDir, { id: 'c', source: cam.url, sampleInterval: 0.5, decode: 'all' }, {}, { liveSegments: 20 });
      try {
        h.sup.start();
        await waitForState(h.sup, isState('live'), 30_000, 'live');
        const frames: Frame[] = await nextFrames(h.sup, 6, 20_000);
        await sleep(2500); // let the segments holding these frames complete
        const hlsDir = cameraHlsDir(dataDir, 'c');
        const pl = parsePlaylist(await readFile(join(hlsDir, LIVE_PLAYLIST), 'utf8'));
        const report: string[] = [];
        let compared = 0;
        for (const f of frames) {
          const captured = await readClockFromImage(f.jpeg);
          expect(captured, `frame ${f.seq} has a readable clock`).not.toBeNull();
          const shown = hlsFrameAt(hlsDir, pl, f.pdt);
          report.push(`seq ${f.seq}: pdt - capture ${f.pdt - captured!} ms; hls frame at ${shown ? Math.round(shown.at - f.pdt) : '-'} ms, clock ${shown?.clock === null || !shown ? '-' : shown.clock - captured!}`);
          expect(Math.abs(f.pdt - captured!), report.join('\n')).toBeLessThanOrEqual(TOLERANCE_MS);
          if (!shown) continue; // before the first segment (a keyframe-start session copies from its second GOP)
          // The HLS PDT of the frame a player shows is within the same bound of that frame's capture...
          expect(Math.abs(shown.at - shown.clock!), report.join('\n')).toBeLessThanOrEqual(TOLERANCE_MS);
          // ...and it is this frame or a close neighbour: ffmpeg's RTP H.264 parsing can stamp a copied packet with a
          // neighbouring frame's time where the decoder (the sampled path) gets the right one.
          expect(Math.abs(shown.clock! - captured!), report.join('\n')).toBeLessThanOrEqual(NEIGHBOUR_MS);
          compared++;
        }
        expect(compared, report.join('\n')).toBeGreaterThanOrEqual(4);
        expect(h.sup.snapshot().restarts).toBe(0);
        console.log(`${name}\n  ${report.join('\n  ')}`);
      } finally {
        await h.sup.close();
        await cam.close();
      }
    }, 90_000);
  }
});
