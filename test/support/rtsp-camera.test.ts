// The test RTSP camera itself (test/support/rtsp.ts): it must behave like the real cameras it stands for, or the
// ingest tests built on it prove nothing. Each test starts its own camera and reads it with ffprobe/ffmpeg.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readBarcodeFromImage, readClockFromImage } from './barcode.ts';
import { startRtspServer, type RtspFeedOptions, type TestRtspServer } from './rtsp.ts';

const run = promisify(execFile);

async function withCamera<T>(opts: RtspFeedOptions, fn: (cam: TestRtspServer) => Promise<T>): Promise<T> {
  const cam = await startRtspServer(opts);
  try {
    return await fn(cam);
  } finally {
    await cam.close();
  }
}

interface Probe {
  streams: { codec_type: string; codec_name: string; profile?: string; width?: number; height?: number; has_b_frames?: number; sample_rate?: string }[];
  packets: { stream_index: number; flags: string; pts_time?: string }[];
}

async function probe(url: string, seconds = 1.5): Promise<Probe> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries',
    'stream=codec_type,codec_name,profile,width,height,has_b_frames,sample_rate:packet=stream_index,flags,pts_time',
    '-read_intervals', `%+${seconds}`, '-of', 'json', url], { timeout: 30_000 });
  return JSON.parse(stdout) as Probe;
}

/**
 * Slices per frame over three seconds of video: slice headers over slices that start a picture. Three, not one: on a
 * loaded machine x265 falls behind real time and one second held as few as two pictures.
 */
async function slicesPerFrame(url: string, codec: 'h264' | 'hevc'): Promise<number> {
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-rtsp_transport', 'tcp', '-i', url, '-t', '3', '-map', '0:v', '-c', 'copy',
    '-bsf:v', 'trace_headers', '-f', 'null', '-'], { timeout: 30_000, maxBuffer: 64 << 20 });
  const field = codec === 'h264' ? /first_mb_in_slice\s+\S+ = (\d+)/ : /first_slice_segment_in_pic_flag\s+\S+ = (\d+)/;
  const values = stderr.split('\n').flatMap((l) => {
    const m = field.exec(l);
    return m ? [Number(m[1])] : [];
  });
  const pictures = values.filter((v) => (codec === 'h264' ? v === 0 : v === 1)).length;
  expect(pictures).toBeGreaterThan(10);
  return values.length / pictures;
}

async function grabFrame(url: string): Promise<Buffer> {
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', url, '-map', '0:v',
    '-frames:v', '1', '-c:v', 'png', '-f', 'image2pipe', '-'], { timeout: 30_000, encoding: 'buffer', maxBuffer: 64 << 20 });
  return stdout;
}

const video = (p: Probe) => p.streams.find((s) => s.codec_type === 'video')!;
const videoPackets = (p: Probe) => p.packets.filter((k) => k.stream_index === p.streams.findIndex((s) => s.codec_type === 'video'));

// Each test starts its own camera: they run side by side (vitest's maxConcurrency, 5), mostly waiting on real-time video.
describe.concurrent('test RTSP camera', () => {
  it('keeps encoding between clients: a client joins mid-GOP, and the frame counter keeps counting', async () => {
    await withCamera({ gop: 60 }, async (cam) => {
      // A 2 s GOP: a client that joined on a keyframe would see it first; mid-GOP it sees inter frames first.
      const first = videoPackets(await probe(cam.url, 1));
      expect(first[0]!.flags).not.toMatch(/^K/);
      const a = await readBarcodeFromImage(await grabFrame(cam.url));
      await new Promise((r) => setTimeout(r, 1000));
      const b = await readBarcodeFromImage(await grabFrame(cam.url));
      expect(b! - a!).toBeGreaterThan(20); // ~30 frames later: the feed did not restart for the new client
    });
  });

  it("join: 'keyframe' starts a lone client on a keyframe", async () => {
    await withCamera({ gop: 30, join: 'keyframe' }, async (cam) => {
      for (let i = 0; i < 2; i++) expect(videoPackets(await probe(cam.url, 1))[0]!.flags).toMatch(/^K/);
    });
  });

  it('sends several slices per frame when asked (x264 sliced threads), one by default', async () => {
    await withCamera({ slices: 2 }, async (cam) => expect(await slicesPerFrame(cam.url, 'h264')).toBe(2));
    await withCamera({}, async (cam) => expect(await slicesPerFrame(cam.url, 'h264')).toBe(1));
  });

  it('repeats SPS/PPS before every keyframe slice by default (ffmpeg then splits keyframes), or once per frame', async () => {
    const keyPackets = async (cam: TestRtspServer) => {
      const keys = videoPackets(await probe(cam.url, 2)).filter((k) => k.flags.startsWith('K') && k.pts_time !== undefined);
      return { keys: keys.length, times: new Set(keys.map((k) => k.pts_time)).size };
    };
    await withCamera({ slices: 2, gop: 15 }, async (cam) => {
      const k = await keyPackets(cam);
      expect(k.times).toBeGreaterThanOrEqual(2);
      expect(k.keys).toBe(2 * k.times); // two packets, one timestamp, per keyframe
    });
    await withCamera({ slices: 2, gop: 15, paramSets: 'per-frame' }, async (cam) => {
      const k = await keyPackets(cam);
      expect(k.times).toBeGreaterThanOrEqual(2);
      expect(k.keys).toBe(k.times);
    });
  });

  it('encodes the H.264 profile asked for, with B-frames', async () => {
    await withCamera({ profile: 'high', bframes: 2 }, async (cam) => {
      const v = video(await probe(cam.url, 1));
      expect(v.profile).toBe('High');
      expect(v.has_b_frames).toBeGreaterThan(0);
    });
    await withCamera({ profile: 'main', bframes: 1 }, async (cam) => expect(video(await probe(cam.url, 1)).profile).toBe('Main'));
    await expect(startRtspServer({ profile: 'baseline', bframes: 2 })).rejects.toThrow(/baseline profile has no B-frames/);
  });

  it('keeps the GOP length asked for', async () => {
    await withCamera({ gop: 20, fps: 20 }, async (cam) => {
      const keys = videoPackets(await probe(cam.url, 3.5)).filter((k) => k.flags.startsWith('K') && k.pts_time !== undefined).map((k) => Number(k.pts_time));
      expect(keys.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < keys.length; i++) expect(keys[i]! - keys[i - 1]!).toBeCloseTo(1, 1);
    });
  });

  it('serves H.265 (with slices) and MJPEG, at the size and rate asked for', async () => {
    await withCamera({ codec: 'h265', slices: 2, width: 320, height: 240, fps: 15 }, async (cam) => {
      const v = video(await probe(cam.url, 1));
      expect([v.codec_name, v.width, v.height]).toEqual(['hevc', 320, 240]);
      expect(await slicesPerFrame(cam.url, 'hevc')).toBe(2);
    });
    await withCamera({ codec: 'mjpeg', width: 480, height: 272 }, async (cam) => {
      const frame = await grabFrame(cam.url);
      expect(video(await probe(cam.url, 1))).toMatchObject({ codec_name: 'mjpeg', width: 480, height: 272 });
      expect(await readBarcodeFromImage(frame)).not.toBeNull();
    });
  });

  it('adds an AAC or PCMA audio track alongside the video', async () => {
    for (const [audio, codec, rate] of [['aac', 'aac', '48000'], ['pcma', 'pcm_alaw', '8000']] as const) {
      await withCamera({ audio }, async (cam) => {
        const p = await probe(cam.url, 1);
        expect(p.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
        expect(p.streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: codec, sample_rate: rate });
      });
    }
  });

  it('requires basic or digest credentials and refuses wrong ones', async () => {
    for (const auth of ['basic', 'digest'] as const) {
      await withCamera({ user: 'admin', password: 'pa55:w@rd', auth }, async (cam) => {
        expect(video(await probe(cam.url, 0.5)).codec_name).toBe('h264');
        const wrong = cam.url.replace(encodeURIComponent('pa55:w@rd'), 'nope');
        const refused = await run('ffprobe', ['-v', 'trace', '-rtsp_transport', 'tcp', wrong], { timeout: 30_000 }).then(() => '', (e: { stderr: string }) => e.stderr);
        expect(refused).toContain('401 Unauthorized');
        expect(refused).toContain(`WWW-Authenticate: ${auth === 'digest' ? 'Digest' : 'Basic'}`);
      });
    }
  });

  it('burns the wall clock (capture time) beside the frame counter', async () => {
    await withCamera({}, async (cam) => {
      const before = Date.now();
      const frame = await grabFrame(cam.url);
      const after = Date.now();
      const captured = await readClockFromImage(frame);
      expect(captured).not.toBeNull();
      // The first frame a client gets was made shortly before it arrived (connect + decode), never after.
      expect(captured!).toBeLessThanOrEqual(after);
      expect(captured!).toBeGreaterThan(before - 3000);
    });
  });
});
