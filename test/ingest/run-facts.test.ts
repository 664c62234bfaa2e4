// Pure pieces of the run's clock and watchdog: packet lines, segment PTS, playlist PDT shift, stall verdicts,
// source change, the latest-frame slot's consumer side.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePlaylist } from '../../pipelines/ingest/hls-playlist.ts';
import { FrameSlot } from '../../pipelines/ingest/frame-slot.ts';
import { LivePlaylist, shiftProgramDateTimes } from '../../pipelines/ingest/live-playlist.ts';
import { isDebugTsLine, PacketClock } from '../../pipelines/ingest/packet-clock.ts';
import { PdtMapper } from '../../pipelines/ingest/pdt.ts';
import { stallReason, watchdogLimits } from '../../pipelines/ingest/run-watchdog.ts';
import { InputStreamWatch, sourceChange } from '../../pipelines/ingest/source-change.ts';
import { firstVideoPts, readFirstVideoPts } from '../../pipelines/ingest/ts-pts.ts';
import type { Frame } from '../../pipelines/ingest/types.ts';
import { FFMPEG_PLAYLIST, LIVE_PLAYLIST } from '../../pipelines/ingest/paths.ts';

const pkt = (pts: string) =>
  `demuxer+ffmpeg -> ist_index:0 type:video pkt_pts:${pts} pkt_pts_time:${pts === 'NOPTS' ? 'NOPTS' : Number(pts) / 90000} pkt_dts:NOPTS pkt_dts_time:NOPTS duration:3000 duration_time:0.0333333 off:-100000 off_time:-0.1`;

describe('PacketClock', () => {
  it('counts every video packet as progress and keeps the smallest arrival-minus-PTS as the clock offset', () => {
    const c = new PacketClock();
    expect(c.push(pkt('NOPTS'), 5000)).toBe(true);
    expect(c.lastPacketAt).toBe(5000);
    expect(c.offsetMs).toBeNull(); // no timed packet yet
    // A burst of packets buffered during probing (late), then packets arriving as they are sent.
    c.push(pkt('0'), 5010);
    c.push(pkt('3000'), 5011);
    c.push(pkt('90000'), 6040);
    c.push(pkt('93000'), 6070);
    expect(c.offsetMs).toBeCloseTo(5011 - 3000 / 90, 6); // min over packets of arrival - PTS: 5010, 4977.7, 5040, 5036.7
    expect(c.packets).toBe(5);
    c.freeze();
    c.push(pkt('180000'), 6500); // 4500: earlier, but published times must not move
    expect(c.offsetMs).toBeCloseTo(4977.67, 1);
    expect(c.lastPacketAt).toBe(6500);
  });
  it('settles once packets stop arriving sooner than the last (the probe backlog is drained)', () => {
    const c = new PacketClock();
    // Frame i is captured at 1000 + i * 33.3 ms. The first 30 were buffered while ffmpeg probed and come out in a
    // burst at 2000 ms (5 ms apart), then packets arrive 20 ms after capture.
    for (let i = 0; i < 30; i++) c.push(pkt(String(i * 3000)), 2000 + i * 5);
    expect(c.settled(2160)).toBe(false);
    for (let i = 35; i < 70; i++) c.push(pkt(String(i * 3000)), 1000 + (i * 1000) / 30 + 20 + (i % 3));
    expect(c.settled(2500)).toBe(false);
    expect(c.settled(3300)).toBe(true);
    expect(c.offsetMs).toBeCloseTo(1020, 0);
  });
  it('consumes the other -debug_ts lines and leaves log lines alone', () => {
    const c = new PacketClock();
    expect(c.push('muxer <- type:video pkt_pts:0 pkt_pts_time:0', 1)).toBe(true);
    expect(c.push('decoder -> ist_index:0 type:video frame_pts:0', 1)).toBe(true);
    expect(c.push('    Last message repeated 3 times', 1)).toBe(true);
    expect(c.push('[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized', 1)).toBe(false);
    expect(isDebugTsLine('  Stream #0:0: Video: h264')).toBe(false);
    expect(c.packets).toBe(0);
  });
});

describe('segment PTS and the PDT shift', () => {
  it('reads the first video PTS of a real MPEG-TS segment', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-tspts-'));
    try {
      const ts = join(dir, 'a.ts');
      const r = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25', '-t', '0.4', '-c:v', 'libx264', '-bf', '2',
        '-output_ts_offset', '10', '-f', 'mpegts', ts]);
      expect(r.status).toBe(0);
      const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'packet=pts', '-read_intervals', '%+#1', '-of', 'csv=p=0', ts]).stdout.toString();
      expect(await readFirstVideoPts(ts)).toBeCloseTo(parseInt(probe, 10) / 90000, 6);
      expect(firstVideoPts(Buffer.alloc(376))).toBeNull();
      expect(await readFirstVideoPts(join(dir, 'missing.ts'))).toBeNull();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  const ffmpegText = ['#EXTM3U', '#EXT-X-MEDIA-SEQUENCE:4', '#EXTINF:1.000000,', '#EXT-X-PROGRAM-DATE-TIME:2026-11-25T09:37:53.099+0000', 'seg-4.ts',
    '#EXTINF:1.000000,', '#EXT-X-PROGRAM-DATE-TIME:2026-11-25T09:37:54.099+0000', 'seg-5.ts', ''].join('\n');
  const t0 = Date.parse('2026-11-25T09:37:53.099Z');
  it('puts frames on the packet clock and moves the playlist so its PDTs agree with them', async () => {
    const clock = new PacketClock();
    clock.push(pkt('90000'), t0 - 700); // PTS 1 s arrived 0.7 s before ffmpeg's writer started: offset t0 - 1700
    const m = new PdtMapper(4, clock, async (path) => (path.endsWith('seg-4.ts') ? 11.4 + 1.2 : null)); // seg-4 opens at PTS 1.2
    expect(await m.observe(parsePlaylist(ffmpegText), '/hls')).toBe(true);
    expect(m.fallback).toBeNull();
    expect(m.map(1.2)).toBe(t0 - 500);
    expect(m.shiftMs).toBe(-500);
    const shifted = parsePlaylist(shiftProgramDateTimes(ffmpegText, m.shiftMs));
    expect(shifted.segments.map((s) => s.pdt)).toEqual([m.map(1.2), m.map(2.2)]);
    clock.push(pkt('180000'), t0); // frozen once published
    expect(m.map(1.2)).toBe(t0 - 500);
  });
  it('publishes the shifted playlist atomically and retires both playlists between runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-live-'));
    try {
      const live = new LivePlaylist(dir);
      expect(await live.source()).toBeNull();
      await writeFile(join(dir, FFMPEG_PLAYLIST), ffmpegText);
      const src = await live.source();
      const pl = await live.publish(src!.text, 250);
      expect(pl.segments[0]!.pdt).toBe(t0 + 250);
      expect(parsePlaylist(await readFile(join(dir, LIVE_PLAYLIST), 'utf8')).segments[1]!.pdt).toBe(t0 + 1250);
      await writeFile(join(dir, FFMPEG_PLAYLIST), `${ffmpegText}#EXTINF:1.000000,\n#EXT-X-PROGRAM-DATE-TIME:2026-11-25T09:37:55.099+0000\nseg-6.ts\n`);
      const last = await live.retire(250); // ffmpeg wrote seg-6 after the last publish: still indexed, shifted
      expect(last!.segments.map((s) => [s.seq, s.pdt! - t0])).toEqual([[4, 250], [5, 1250], [6, 2250]]);
      expect(await live.source()).toBeNull();
      expect(await live.retire(null)).toBeNull();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('stall watchdog', () => {
  const base = { spawnedAt: 0, lastPacketAt: null, firstFrameAt: null, lastFrameAt: null };
  it('a 10 s GOP: packets flow, no frame for 10 s, the run is alive', () => {
    const limits = watchdogLimits(8, 1, null);
    expect(stallReason({ ...base, now: 10_500 }, limits)).toBeNull(); // ffmpeg still waits for a keyframe to probe
    expect(stallReason({ ...base, now: 10_500, lastPacketAt: 10_400 }, limits)).toBeNull();
    expect(stallReason({ ...base, now: 20_000, firstFrameAt: 10_600, lastFrameAt: 10_600, lastPacketAt: 19_990 }, limits)).toBeNull();
  });
  it('sampleInterval above stallTimeout: one frame per 10 s is progress, not a stall', () => {
    const limits = watchdogLimits(8, 10, 1);
    expect(stallReason({ ...base, now: 29_000, firstFrameAt: 1000, lastFrameAt: 11_000, lastPacketAt: 28_990 }, limits)).toBeNull();
  });
  it('no packet for stallTimeout ends the run; so does a decoder that stopped while packets flow', () => {
    const limits = watchdogLimits(8, 1, 1);
    expect(stallReason({ ...base, now: 8000 }, limits)).toBeNull(); // probing: up to one GOP more before packets show
    expect(stallReason({ ...base, now: 9000 }, limits)).toBe("no picture within 9 s of starting: check the URL is the camera's video stream");
    expect(stallReason({ ...base, now: 11_000, lastPacketAt: 10_900 }, limits)).toMatch(/^data arrives but no picture was decoded in 10 s/);
    expect(stallReason({ ...base, now: 20_000, firstFrameAt: 1, lastFrameAt: 11_000, lastPacketAt: 12_000 }, limits)).toBe('no data for 8 s');
    expect(limits.frameSeconds).toBe(10);
    expect(stallReason({ ...base, now: 21_000, firstFrameAt: 1, lastFrameAt: 11_000, lastPacketAt: 20_900 }, limits)).toBe('no frame decoded for 10 s while data flows');
  });
});

describe('source change', () => {
  it('reads the input video stream and names what changed since the probe', () => {
    const w = new InputStreamWatch();
    expect(w.push("Input #0, rtsp, from 'rtsp://127.0.0.1:554/cam':")).toBeNull();
    const seen = w.push('  Stream #0:0: Video: hevc (Main), yuv420p(tv, bt709), 1920x1080 [SAR 1:1 DAR 16:9], 25 fps, 25 tbr, 90k tbn');
    expect(seen).toEqual({ codec: 'hevc', width: 1920, height: 1080 });
    expect(w.push('  Stream #0:0: Video: h264, yuv420p, 640x360')).toBeNull(); // only the input's first
    const probed = { codec: 'h264', width: 640, height: 360, fps: 30, gopSeconds: 1 };
    expect(sourceChange(probed, seen!)).toBe('camera now sends hevc 1920x1080 (probed h264 640x360): probing again');
    expect(sourceChange(probed, { codec: 'h264', width: 640, height: 360 })).toBeNull();
    const out = new InputStreamWatch();
    out.push('Output #0, hls, to live.m3u8:');
    expect(out.push('  Stream #0:0: Video: h264, yuv420p, 640x360')).toBeNull();
  });
});

describe('FrameSlot consumer', () => {
  const frame = (seq: number) => ({ seq }) as Frame;
  it('next() settles as soon as a frame is put, and with the newest one when frames wait', async () => {
    const s = new FrameSlot();
    const waiting = s.next();
    s.put(frame(1));
    expect((await waiting).seq).toBe(1);
    s.put(frame(2));
    s.put(frame(3));
    expect((await s.next()).seq).toBe(3);
    expect(s.dropped).toBe(1);
  });
  it('next() rejects when its signal aborts, and the slot keeps working', async () => {
    const s = new FrameSlot();
    const ac = new AbortController();
    const waiting = s.next(ac.signal);
    ac.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
    s.put(frame(4));
    expect(s.take()?.seq).toBe(4);
  });
});
