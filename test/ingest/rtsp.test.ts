// Against a real RTSP server (gst-rtsp-server) relaying an H.264 feed with the frame counter burned in. Each test
// starts its own camera and supervisor: nothing carries over from one test to the next.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePlaylist } from '../../pipelines/ingest/hls-playlist.ts';
import { cameraHlsDir, LIVE_PLAYLIST } from '../../pipelines/ingest/paths.ts';
import { readBarcode, readBarcodeFromImage } from '../support/barcode.ts';
import { freeTcpPort, startRtspServer, type RtspFeedOptions, type TestRtspServer } from '../support/rtsp.ts';
import { alive, decodeSegment, ffmpegChildren, isState, makeSupervisor, nextFrames, sleep, waitForState, type Harness } from './helpers.ts';

const USER = 'admin';
const PASSWORD = 'pa55-Secret';
const STALL = 3;

interface Rig {
  dataDir: string;
  server: TestRtspServer;
  h: Harness;
  /** ffmpeg children of this process that belong to the camera under test (not the feed). */
  cameraFfmpeg(): number[];
}

/**
 * A camera with credentials (0.5 s GOP at 30 fps) and a supervisor on it, started; torn down after `fn`.
 * rtspTimeout sits well above the watchdog, so a freeze proves the watchdog (not ffmpeg) ended the run.
 */
async function withRig(feed: RtspFeedOptions, fn: (rig: Rig) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'vigil-rtsp-'));
  const server = await startRtspServer({ user: USER, password: PASSWORD, gop: 15, ...feed });
  const h = makeSupervisor(dataDir, { source: server.url, sampleInterval: 1, decode: 'auto' }, { stallTimeout: STALL, rtspTimeout: 20 }, { liveSegments: 20 });
  try {
    h.sup.start();
    await fn({ dataDir, server, h, cameraFfmpeg: () => ffmpegChildren().filter((p) => p !== server.feedPid) });
  } finally {
    await h.sup.close();
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe('RTSP camera', () => {
  for (const join_ of ['keyframe', 'mid-gop'] as const) {
    it(`goes live, picks keyframe decoding for a 0.5 s GOP, and PDTs match the HLS frames (burned counter; session starts ${join_})`, async () => {
      await withRig({ join: join_ }, async ({ dataDir, h }) => {
        await waitForState(h.sup, isState('live'), 30_000, 'live');
        expect(h.sup.snapshot().decode).toBe('keyframes');
        const frames = await nextFrames(h.sup, 6, 20_000);
        // Sampling: about one frame per second of source time.
        for (let i = 1; i < frames.length; i++) {
          expect(frames[i]!.pts - frames[i - 1]!.pts).toBeGreaterThan(0.85);
          expect(frames[i]!.pts - frames[i - 1]!.pts).toBeLessThan(1.6);
        }
        await sleep(2500); // let the segments holding these frames complete
        const hlsDir = cameraHlsDir(dataDir, 'cam');
        const playlist = parsePlaylist(await readFile(join(hlsDir, LIVE_PLAYLIST), 'utf8'));
        let compared = 0;
        for (const f of frames) {
          expect(f.width % 28).toBe(0);
          // Segments around the frame (PDTs are whole ms, so a frame at a boundary may sit in either neighbour).
          const around = playlist.segments.filter((s) => s.pdt! - 50 <= f.pdt && f.pdt < s.pdt! + s.duration * 1000 + 50);
          if (!around.length) continue;
          const decoded = around.flatMap((s) => decodeSegment(join(hlsDir, s.uri)).map((d) => ({ ...d, at: s.pdt! + d.offset * 1000, seg: s })));
          const nearest = decoded.reduce((best, d) => (Math.abs(d.at - f.pdt) < Math.abs(best.at - f.pdt) ? d : best));
          const seg = nearest.seg;
          expect(Math.abs(nearest.at - f.pdt)).toBeLessThanOrEqual(34); // within one frame at 30 fps
          const inHls = readBarcode(nearest.rgb, 320, 180);
          const sampled = await readBarcodeFromImage(f.jpeg);
          expect(sampled).not.toBeNull();
          const where = `frame run ${f.run} seq ${f.seq} pts ${f.pts} pdt ${f.pdt} in ${seg.uri} (pdt ${seg.pdt}) at +${nearest.offset}: hls ${inHls} sampled ${sampled}`;
          expect(Math.abs(inHls! - sampled!), where).toBeLessThanOrEqual(1);
          compared++;
        }
        expect(compared).toBeGreaterThanOrEqual(4);
      });
    });
  }

  it('server killed: offline; back on the same port: live again within 5 s of its return', async () => {
    await withRig({}, async ({ server, h }) => {
      const before = await waitForState(h.sup, isState('live'), 30_000, 'live');
      await server.kill();
      const off = await waitForState(h.sup, isState('offline'), 15_000, 'offline');
      expect(off.reason).toMatch(/camera closed the stream|connection refused|timed out/);
      await sleep(2500); // a few refused reconnects while it is down
      const back = Date.now();
      await server.restart();
      const live = await waitForState(h.sup, isState('live'), 15_000, 'live again');
      expect(Date.now() - back).toBeLessThan(5000);
      expect(live.run).toBeGreaterThan(before.run);
      expect(live.restarts).toBeGreaterThan(before.restarts);
      // Frames of the new run carry the new run number.
      const [f] = await nextFrames(h.sup, 1, 10_000);
      expect(f!.run).toBe(live.run);
    });
  });

  it('server frozen (SIGSTOP): the stall watchdog takes the camera offline; thawed: live again', async () => {
    await withRig({}, async ({ server, h }) => {
      await waitForState(h.sup, isState('live'), 30_000, 'live');
      await nextFrames(h.sup, 1, 10_000);
      const t0 = Date.now();
      server.freeze();
      const off = await waitForState(h.sup, (s) => s.state === 'offline' && /no data for 3 s/.test(s.reason ?? ''), 20_000, 'watchdog');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(STALL * 1000 - 1200); // last frame came up to a sample interval before the freeze
      expect(off.reason).toBe(`no data for ${STALL} s`);
      server.thaw();
      await waitForState(h.sup, isState('live'), 20_000, 'live after thaw');
    });
  });

  it('never shows the credentials: snapshot, reasons, stderr tail, logs', async () => {
    await withRig({}, async ({ server, h }) => {
      await waitForState(h.sup, isState('live'), 30_000, 'live');
      await server.kill(); // an offline reason and ffmpeg's last words, with the URL in its arguments
      await waitForState(h.sup, isState('offline'), 15_000, 'offline');
      await server.restart();
      await waitForState(h.sup, isState('live'), 15_000, 'live again');
      const texts = [JSON.stringify(h.sup.snapshot()), JSON.stringify(h.states), ...h.sup.stderrTail(), ...h.logs];
      expect(h.logs.length).toBeGreaterThan(3);
      expect(h.logs.join('\n')).toContain('127.0.0.1'); // the URL is logged, scrubbed
      for (const t of texts) {
        expect(t).not.toContain(PASSWORD);
        expect(t).not.toContain(`${USER}:`);
      }
    });
  });

  it('close() ends every ffmpeg it started and is idempotent', async () => {
    await withRig({}, async ({ server, h, cameraFfmpeg }) => {
      const pids = new Set<number>();
      await waitForState(h.sup, isState('live'), 30_000, 'live');
      cameraFfmpeg().forEach((p) => pids.add(p));
      await server.kill();
      await waitForState(h.sup, isState('offline'), 15_000, 'offline');
      await server.restart();
      await waitForState(h.sup, isState('live'), 15_000, 'live again');
      cameraFfmpeg().forEach((p) => pids.add(p));
      expect(pids.size).toBeGreaterThanOrEqual(2);
      expect([...pids].filter(alive).length).toBe(1); // one ffmpeg per camera at a time
      await Promise.all([h.sup.close(), h.sup.close()]);
      for (const pid of pids) expect(alive(pid)).toBe(false);
      expect(cameraFfmpeg()).toEqual([]);
    });
  });
});

describe('RTSP failures before the first frame', () => {
  it('connection refused is reported clearly and retried', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vigil-rtsp-'));
    const port = await freeTcpPort();
    const x = makeSupervisor(dataDir, { id: 'nope', source: `rtsp://${USER}:${PASSWORD}@127.0.0.1:${port}/cam` });
    x.sup.start();
    try {
      const s = await waitForState(x.sup, isState('offline'), 15_000, 'offline');
      expect(s.reason).toMatch(/^connection refused: /);
      await waitForState(x.sup, (s) => s.restarts >= 2, 10_000, 'retries');
      expect(x.sup.stderrTail().join('\n')).not.toContain(PASSWORD);
    } finally {
      await x.sup.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('a wrong password says authentication failed, without echoing the URL secrets', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vigil-rtsp-'));
    const server = await startRtspServer({ user: USER, password: PASSWORD });
    const x = makeSupervisor(dataDir, { id: 'badpw', source: server.url.replace(PASSWORD, 'wrong-Guess') });
    x.sup.start();
    try {
      const s = await waitForState(x.sup, isState('offline'), 15_000, 'offline');
      expect(s.reason).toBe('authentication failed (401): check the user and password');
      const all = [...x.sup.stderrTail(), ...x.logs, JSON.stringify(x.states)].join('\n');
      expect(all).toContain('401');
      expect(all).not.toContain('wrong-Guess');
    } finally {
      await x.sup.close();
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
