// Against a real RTSP server (gst-rtsp-server) relaying an H.264 feed with the frame counter burned in.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlaylist } from '../../pipelines/ingest/hls-playlist.ts';
import { cameraHlsDir, LIVE_PLAYLIST } from '../../pipelines/ingest/paths.ts';
import { readBarcode, readBarcodeFromImage } from '../support/barcode.ts';
import { freeTcpPort, startRtspServer, type TestRtspServer } from '../support/rtsp.ts';
import { alive, decodeSegment, ffmpegChildren, isState, makeSupervisor, nextFrames, waitForState, type Harness } from './helpers.ts';

const USER = 'admin';
const PASSWORD = 'pa55-Secret';
const STALL = 3;

let dataDir: string;
let server: TestRtspServer;
let h: Harness;
const pids = new Set<number>();
const cameraFfmpeg = () => ffmpegChildren().filter((p) => p !== server.feedPid);

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'vigil-rtsp-'));
  server = await startRtspServer({ user: USER, password: PASSWORD, gop: 15 }); // 0.5 s GOP at 30 fps
  // rtspTimeout well above the watchdog, so the freeze test proves the watchdog (not ffmpeg) ended the run.
  h = makeSupervisor(dataDir, { source: server.url, sampleInterval: 1, decode: 'auto' }, { stallTimeout: STALL, rtspTimeout: 20 }, { liveSegments: 20 });
  h.sup.start();
});

afterAll(async () => {
  await h?.sup.close();
  await server?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('RTSP camera', () => {
  it('goes live, picks keyframe decoding for a 0.5 s GOP, and PDTs match the HLS frames (burned counter)', async () => {
    await waitForState(h.sup, isState('live'), 30_000, 'live');
    cameraFfmpeg().forEach((p) => pids.add(p));
    expect(h.sup.snapshot().decode).toBe('keyframes');
    const frames = await nextFrames(h.sup, 6, 20_000);
    // Sampling: about one frame per second of source time.
    for (let i = 1; i < frames.length; i++) expect(frames[i]!.pts - frames[i - 1]!.pts).toBeGreaterThan(0.85), expect(frames[i]!.pts - frames[i - 1]!.pts).toBeLessThan(1.6);
    await new Promise((r) => setTimeout(r, 2500)); // let the segments holding these frames complete
    const hlsDir = cameraHlsDir(dataDir, 'cam');
    const playlist = parsePlaylist(await readFile(join(hlsDir, LIVE_PLAYLIST), 'utf8'));
    let compared = 0;
    for (const f of frames) {
      expect(f.width % 28).toBe(0);
      const seg = playlist.segments.find((s) => s.pdt! <= f.pdt && f.pdt < s.pdt! + s.duration * 1000);
      if (!seg) continue;
      const decoded = decodeSegment(join(hlsDir, seg.uri));
      const nearest = decoded.reduce((best, d) => (Math.abs(seg.pdt! + d.offset * 1000 - f.pdt) < Math.abs(seg.pdt! + best.offset * 1000 - f.pdt) ? d : best));
      expect(Math.abs(seg.pdt! + nearest.offset * 1000 - f.pdt)).toBeLessThanOrEqual(34); // within one frame at 30 fps
      const inHls = readBarcode(nearest.rgb, 320, 180);
      const sampled = await readBarcodeFromImage(f.jpeg);
      expect(sampled).not.toBeNull();
      const where = `frame run ${f.run} seq ${f.seq} pts ${f.pts} pdt ${f.pdt} in ${seg.uri} (pdt ${seg.pdt}) at +${nearest.offset}: hls ${inHls} sampled ${sampled}; first seg pdt ${playlist.segments[0]?.pdt} ${playlist.segments[0]?.uri}`;
      expect(Math.abs(inHls! - sampled!), where).toBeLessThanOrEqual(1);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(4);
  });

  it('server killed: offline; back on the same port: live again within 5 s of its return', async () => {
    const before = h.sup.snapshot();
    await server.kill();
    const off = await waitForState(h.sup, isState('offline'), 15_000, 'offline');
    expect(off.reason).toMatch(/camera closed the stream|connection refused|timed out/);
    await new Promise((r) => setTimeout(r, 2500)); // a few refused reconnects while it is down
    const back = Date.now();
    await server.restart();
    const live = await waitForState(h.sup, isState('live'), 15_000, 'live again');
    const took = Date.now() - back;
    expect(took).toBeLessThan(5000);
    expect(live.run).toBeGreaterThan(before.run);
    expect(live.restarts).toBeGreaterThan(before.restarts);
    cameraFfmpeg().forEach((p) => pids.add(p));
    // Frames of the new run carry the new run number.
    const [f] = await nextFrames(h.sup, 1, 10_000);
    expect(f!.run).toBe(live.run);
  });

  it('server frozen (SIGSTOP): the stall watchdog takes the camera offline; thawed: live again', async () => {
    const t0 = Date.now();
    server.freeze();
    const off = await waitForState(h.sup, (s) => s.state === 'offline' && /no data for 3 s/.test(s.reason ?? ''), 20_000, 'watchdog');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(STALL * 1000 - 1200); // last frame came up to a sample interval before the freeze
    expect(off.reason).toBe(`no data for ${STALL} s`);
    server.thaw();
    await waitForState(h.sup, isState('live'), 20_000, 'live after thaw');
    cameraFfmpeg().forEach((p) => pids.add(p));
  });

  it('never shows the credentials: snapshot, reasons, stderr tail, logs', async () => {
    const texts = [JSON.stringify(h.sup.snapshot()), JSON.stringify(h.states), ...h.sup.stderrTail(), ...h.logs];
    expect(h.logs.length).toBeGreaterThan(3);
    for (const t of texts) {
      expect(t).not.toContain(PASSWORD);
      expect(t).not.toContain(`${USER}:`);
    }
  });

  it('close() ends every ffmpeg it started and is idempotent', async () => {
    expect(pids.size).toBeGreaterThanOrEqual(3);
    const live = [...pids].filter(alive);
    expect(live.length).toBe(1); // one ffmpeg per camera at a time
    await Promise.all([h.sup.close(), h.sup.close()]);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(cameraFfmpeg()).toEqual([]);
  });
});

describe('RTSP failures before the first frame', () => {
  it('connection refused is reported clearly and retried', async () => {
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
    }
  });

  it('a wrong password says authentication failed, without echoing the URL secrets', async () => {
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
    }
  });
});
