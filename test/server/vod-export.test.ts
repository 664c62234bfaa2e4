// Recorded playback and export against real segments: ffmpeg encodes a grey camera with the frame counter burned
// in (pipelines/ingest/barcode.ts) into 1 s MPEG-TS segments, the recording index gets their rows (two runs with a
// hole between them), and the server's VOD playlist, recorded extents, evaluations and MP4 exports are read back
// with real decoders: ffprobe for durations, the burned counter for which frame comes first, pixels for burned boxes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { barcodeFilter } from '../../pipelines/ingest/barcode.ts';
import type { RecordedSegment } from '../../pipelines/ingest/recording-index.ts';
import { readBarcodeFromImage } from '../support/barcode.ts';
import { evaluation, newEvent } from '../support/events.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const run = promisify(execFile);
const CAM = 'front';
const T0 = Date.parse('2026-11-30T10:00:00Z');
const W = 320;
const H = 240;
const FPS = 10;

/** Six 1 s segments seg-100..seg-105 of a grey picture with the frame counter burned in (GOP = 1 s, B-frames). */
async function makeSegments(dir: string): Promise<number[]> {
  mkdirSync(dir, { recursive: true });
  await run('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `color=c=0x808080:size=${W}x${H}:rate=${FPS}`, '-t', '6',
    '-vf', barcodeFilter(), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(FPS), '-keyint_min', String(FPS), '-sc_threshold', '0', '-bf', '2',
    '-f', 'hls', '-hls_time', '1', '-hls_playlist_type', 'vod', '-start_number', '100', '-hls_segment_filename', join(dir, 'seg-%d.ts'), join(dir, 'made.m3u8'),
  ]);
  const list = readFileSync(join(dir, 'made.m3u8'), 'utf8');
  rmSync(join(dir, 'made.m3u8'));
  return [...list.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
}

/** The first frame of a video file (or the frame at `at` seconds) as PNG. */
async function frameAt(file: string, at = 0): Promise<Buffer> {
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-ss', String(at), '-i', file, '-frames:v', '1', '-f', 'image2pipe', '-vcodec', 'png', '-'], { encoding: 'buffer', maxBuffer: 1 << 24 });
  return stdout;
}

async function pixel(png: Buffer, x: number, y: number): Promise<[number, number, number]> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * 3;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}

async function probeDuration(file: string): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
  return Number(stdout.trim());
}

describe('recorded playback and export', () => {
  let s: TestServer;
  let rows: RecordedSegment[];
  const api = (path: string, init?: RequestInit) => fetch(new URL(path, s.url), init);
  const json = async <T>(path: string, init?: RequestInit) => {
    const r = await api(path, init);
    return { status: r.status, body: (await r.json()) as T };
  };
  const post = (path: string, body: unknown) => json<{ id: string; state: string; error?: { message: string } }>(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  async function exported(body: unknown): Promise<string> {
    const made = await post('/api/exports', body);
    expect(made.status, JSON.stringify(made.body)).toBe(202);
    const end = Date.now() + 30_000;
    for (;;) {
      const st = await json<{ state: string; error: string | null; progress: number }>(`/api/exports/${made.body.id}`);
      if (st.body.state === 'done') break;
      expect(st.body.state, st.body.error ?? '').not.toBe('failed');
      if (Date.now() > end) throw new Error(`export still ${st.body.state}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = await api(`/api/exports/${made.body.id}/file`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('video/mp4');
    const file = join(s.dataDir, `check-${made.body.id}.mp4`);
    writeFileSync(file, Buffer.from(await r.arrayBuffer()));
    return file;
  }

  beforeAll(async () => {
    s = await startTestServer({ cameras: [{ id: CAM, source: 'testsrc' }] });
    const rec = join(s.dataDir, 'recordings', CAM);
    const durations = await makeSegments(rec);
    expect(durations).toHaveLength(6);
    // Run 1: seg-100..102 back to back; seg-103 lost; run 2: seg-104..105 after a 5 s hole.
    rows = durations
      .map((d, i) => ({ seq: 100 + i, file: `seg-${100 + i}.ts`, pdt: T0 + i * 1000 + (i >= 4 ? 5000 : 0), duration: d, bytes: 1, run: i < 3 ? 1 : 2 }))
      .filter((r) => r.seq !== 103);
    rmSync(join(rec, 'seg-103.ts'));
    await s.store.recordings.addMany(CAM, rows);
  }, 60_000);
  afterAll(() => s?.dispose());

  it('serves a VOD playlist whose PROGRAM-DATE-TIMEs are the index rows, with a discontinuity between runs', async () => {
    const r = await api(`/api/cameras/${CAM}/vod.m3u8?from=${new Date(T0).toISOString()}&to=${T0 + 60_000}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('application/vnd.apple.mpegurl');
    const text = await r.text();
    expect(text).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(text.trim().endsWith('#EXT-X-ENDLIST')).toBe(true);
    expect(text).toContain('#EXT-X-TARGETDURATION:1');
    const pdts = [...text.matchAll(/#EXT-X-PROGRAM-DATE-TIME:(\S+)/g)].map((m) => Date.parse(m[1]!));
    expect(pdts).toEqual(rows.map((x) => x.pdt));
    const lines = text.split('\n');
    expect(lines.filter((l) => l === '#EXT-X-DISCONTINUITY')).toHaveLength(1);
    expect(lines[lines.indexOf('#EXT-X-DISCONTINUITY') + 1]).toBe(`#EXT-X-PROGRAM-DATE-TIME:${new Date(rows[3]!.pdt).toISOString()}`);
    const uris = lines.filter((l) => l && !l.startsWith('#'));
    expect(uris).toEqual(rows.map((x) => `/recordings/${CAM}/${x.file}`));
    for (const u of uris) expect((await api(u)).status, u).toBe(200);
  });

  it('a range without recording is a 404 that says where recordings are; a reversed or too long range is a 400', async () => {
    const none = await json<{ error: { message: string } }>(`/api/cameras/${CAM}/vod.m3u8?from=${T0 + 3500}&to=${T0 + 8000}`);
    expect(none.status).toBe(404);
    expect(none.body.error.message).toContain(`/api/cameras/${CAM}/recordings`);
    expect((await api(`/api/cameras/${CAM}/vod.m3u8?from=${T0 + 1000}&to=${T0}`)).status).toBe(400);
    expect((await api(`/api/cameras/${CAM}/vod.m3u8?from=${T0}&to=${T0 + 25 * 3_600_000}`)).status).toBe(400);
    expect((await api(`/api/cameras/${CAM}/vod.m3u8?from=yesterday&to=${T0}`)).status).toBe(400);
    expect((await api(`/api/cameras/nope/vod.m3u8?from=${T0}&to=${T0 + 1000}`)).status).toBe(404);
  });

  it('a segment listed by the index but still in the live folder is served too', async () => {
    const live = join(s.dataDir, 'hls', CAM);
    mkdirSync(live, { recursive: true });
    const rec = join(s.dataDir, 'recordings', CAM, 'seg-105.ts');
    renameSync(rec, join(live, 'seg-105.ts'));
    try {
      expect((await api(`/recordings/${CAM}/seg-105.ts`)).status).toBe(200);
    } finally {
      renameSync(join(live, 'seg-105.ts'), rec);
    }
  });

  it('the live window\'s segments, not in the index yet, end the playlist and are reachable through /recordings', async () => {
    const live = join(s.dataDir, 'hls', CAM);
    mkdirSync(live, { recursive: true });
    copyFileSync(join(s.dataDir, 'recordings', CAM, 'seg-105.ts'), join(live, 'seg-106.ts'));
    const pdt = rows[4]!.pdt + 1000;
    // The live playlist still lists seg-105 (already indexed) beside seg-106: the index's row wins, no duplicate.
    const playlist = `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:105\n#EXT-X-PROGRAM-DATE-TIME:${new Date(pdt - 1000).toISOString()}\n#EXTINF:1.000000,\nseg-105.ts\n#EXTINF:1.000000,\nseg-106.ts\n`;
    writeFileSync(join(live, 'live.m3u8'), playlist);
    try {
      const text = await (await api(`/api/cameras/${CAM}/vod.m3u8?from=${T0}&to=${T0 + 60_000}`)).text();
      const pdts = [...text.matchAll(/#EXT-X-PROGRAM-DATE-TIME:(\S+)/g)].map((m) => Date.parse(m[1]!));
      expect(pdts).toEqual([...rows.map((x) => x.pdt), pdt]);
      expect(text).toContain(`/recordings/${CAM}/seg-106.ts`);
      expect((await api(`/recordings/${CAM}/seg-106.ts`)).status).toBe(200);
      const ext = await json<{ ranges: { from: number; to: number }[] }>(`/api/cameras/${CAM}/recordings?from=${T0}&to=${T0 + 60_000}`);
      expect(ext.body.ranges[1]!.to).toBe(pdt + 1000);
    } finally {
      rmSync(join(live, 'live.m3u8'));
      rmSync(join(live, 'seg-106.ts'));
    }
  });

  it('lists the recorded extents: one range per continuous stretch', async () => {
    const r = await json<{ ranges: { from: number; to: number }[] }>(`/api/cameras/${CAM}/recordings?from=${T0 - 60_000}&to=${T0 + 60_000}`);
    expect(r.status).toBe(200);
    const end = (x: RecordedSegment) => Math.round(x.pdt + x.duration * 1000);
    expect(r.body.ranges).toEqual([
      { from: T0, to: end(rows[2]!) },
      { from: rows[3]!.pdt, to: end(rows[4]!) },
    ]);
  });

  it('returns the evaluations of a range in compact form and refuses ranges over 10 minutes', async () => {
    await s.store.events.addEvaluations([
      { evaluation: evaluation({ camera: CAM, rule: 'gate', pdt: T0 + 1500 }), eventId: null },
      { evaluation: evaluation({ camera: CAM, rule: 'other', pdt: T0 + 1600 }), eventId: null },
      { evaluation: evaluation({ camera: CAM, rule: 'gate', pdt: T0 + 20 * 60_000 }), eventId: null },
    ]);
    const r = await json<{ evaluations: Record<string, unknown>[] }>(`/api/cameras/${CAM}/evaluations?from=${T0}&to=${T0 + 10 * 60_000}&rule=gate`);
    expect(r.status).toBe(200);
    expect(r.body.evaluations).toEqual([
      { pdt: T0 + 1500, rule: 'gate', outcome: 'positive', positive: true, boxes: [{ label: 'person', x1: 10, y1: 20, x2: 110, y2: 220, attributes: { helmet: false } }], points: [], count: 1, answer: null, sourceW: 1280, sourceH: 720 },
    ]);
    const all = await json<{ evaluations: unknown[] }>(`/api/cameras/${CAM}/evaluations?from=${T0}&to=${T0 + 60_000}`);
    expect(all.body.evaluations).toHaveLength(2);
    const long = await json<{ error: { message: string } }>(`/api/cameras/${CAM}/evaluations?from=${T0}&to=${T0 + 10 * 60_000 + 1}`);
    expect(long.status).toBe(400);
    expect(long.body.error.message).toContain('at most 10 minutes');
  });

  it('exports a range by stream copy: the whole segments covering it, starting on the first one\'s first frame', async () => {
    const file = await exported({ camera: CAM, from: T0 + 1300, to: new Date(T0 + 2500).toISOString() });
    const expected = rows[1]!.duration + rows[2]!.duration;
    expect(Math.abs((await probeDuration(file)) - expected)).toBeLessThanOrEqual(1);
    const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', file]);
    expect(stdout.trim()).toBe(`h264,${W},${H}`);
    const segmentFirst = await readBarcodeFromImage(await frameAt(join(s.dataDir, 'recordings', CAM, 'seg-101.ts')));
    expect(segmentFirst).toBe(FPS); // seg-101 starts at source frame 10
    expect(await readBarcodeFromImage(await frameAt(file))).toBe(segmentFirst);
  });

  it('burns the stored boxes in on the frames they were computed on, scaled from source pixels', async () => {
    // A box in a 640x480 source picture: (200,240)-(400,400) is (100,120)-(200,200) in the 320x240 recording.
    const box = { label: 'car', x1: 200, y1: 240, x2: 400, y2: 400, attributes: {} };
    await s.store.events.addEvaluations([{ evaluation: evaluation({ camera: CAM, rule: 'cars', pdt: T0 + 4500 + 5000, boxes: [box], sourceW: 640, sourceH: 480 }), eventId: null }]);
    const file = await exported({ camera: CAM, from: rows[3]!.pdt, to: rows[3]!.pdt + 1000, burnBoxes: true });
    // The clip starts at seg-104 (pdt T0+9000); the evaluation at T0+9500 is 0.5 s in.
    const before = await frameAt(file, 0.2);
    const during = await frameAt(file, 0.8);
    const isRed = ([r, g, b]: number[]) => r! > 180 && g! < 90 && b! < 90;
    expect(isRed(await pixel(during, 101, 160)), 'left edge of the box').toBe(true);
    expect(isRed(await pixel(during, 150, 198)), 'bottom edge of the box').toBe(true);
    expect(isRed(await pixel(during, 150, 160)), 'inside the box stays clear').toBe(false);
    expect(isRed(await pixel(before, 101, 160)), 'no box before its frame').toBe(false);
    expect(await readBarcodeFromImage(await frameAt(file))).toBe(4 * FPS);
  });

  it('an event export covers its recording range; exports are listed, served with Range, and deleted with their file', async () => {
    const opened = await s.store.events.open(newEvent({ camera: CAM, startPdt: T0 + 500 }));
    const ev = await s.store.events.close(opened.id, T0 + 1500, 'negatives');
    const list0 = await json<{ exports: { id: string }[] }>('/api/exports');
    const file = await exported({ event: ev.id });
    const st = (await json<{ exports: { id: string; event: string | null; from: number; to: number }[] }>('/api/exports')).body.exports;
    expect(st.length).toBe(list0.body.exports.length + 1);
    const mine = st[0]!;
    expect(mine.event).toBe(ev.id);
    expect(mine.from).toBe(ev.recording.from);
    expect(mine.to).toBe(ev.recording.to);
    expect(await probeDuration(file)).toBeGreaterThan(0.5);
    const part = await api(`/api/exports/${mine.id}/file`, { headers: { range: 'bytes=0-99' } });
    expect(part.status).toBe(206);
    expect((await part.arrayBuffer()).byteLength).toBe(100);
    const path = s.store.exports.filePath(mine.id);
    expect(existsSync(path)).toBe(true);
    expect((await api(`/api/exports/${mine.id}`, { method: 'DELETE' })).status).toBe(200);
    expect(existsSync(path)).toBe(false);
    expect((await api(`/api/exports/${mine.id}`)).status).toBe(404);
    expect((await api(`/api/exports/${mine.id}/file`)).status).toBe(404);
  });

  it("an event's clip link cuts its recording range on the first request and reuses it; an open event's runs to the newest segment", async () => {
    const opened = await s.store.events.open(newEvent({ camera: CAM, startPdt: T0 + 500 }));
    const ev = await s.store.events.close(opened.id, T0 + 1500, 'negatives');
    const covered = rows.filter((r) => r.pdt < ev.recording.to! && r.pdt + r.duration * 1000 > ev.recording.from);
    expect(covered.map((r) => r.seq)).toEqual([100, 101, 102]);
    // A clip cut two hours ago: the cache sweeps it when it cuts the next one.
    const clips = join(s.dataDir, 'clips');
    mkdirSync(clips, { recursive: true });
    writeFileSync(join(clips, 'stale.mp4'), 'old');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(join(clips, 'stale.mp4'), twoHoursAgo, twoHoursAgo);
    const r = await api(`/api/events/${ev.id}/clip.mp4`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('video/mp4');
    const file = join(s.dataDir, `clip-${ev.id}.mp4`);
    writeFileSync(file, Buffer.from(await r.arrayBuffer()));
    const seconds = covered.reduce((n, x) => n + x.duration, 0);
    expect(Math.abs((await probeDuration(file)) - seconds)).toBeLessThanOrEqual(0.5);
    expect(await readBarcodeFromImage(await frameAt(file))).toBe(0); // seg-100's first frame
    const cut = readdirSync(clips);
    expect(cut).toHaveLength(1);
    const mtime = statSync(join(clips, cut[0]!)).mtimeMs;
    const part = await api(`/api/events/${ev.id}/clip.mp4`, { headers: { range: 'bytes=0-99' } });
    expect(part.status).toBe(206);
    expect((await part.arrayBuffer()).byteLength).toBe(100);
    expect(readdirSync(clips)).toEqual(cut);
    expect(statSync(join(clips, cut[0]!)).mtimeMs).toBe(mtime);

    // Open, from seg-104 on: its recording runs up to now, so the clip holds every segment recorded since.
    const open = await s.store.events.open(newEvent({ camera: CAM, startPdt: rows[3]!.pdt + 500 }));
    const live = await api(`/api/events/${open.id}/clip.mp4`);
    expect(live.status).toBe(200);
    const openFile = join(s.dataDir, `clip-${open.id}.mp4`);
    writeFileSync(openFile, Buffer.from(await live.arrayBuffer()));
    expect(await readBarcodeFromImage(await frameAt(openFile))).toBe(4 * FPS);
    await s.store.events.close(open.id, rows[3]!.pdt + 900, 'negatives');

    const early = await s.store.events.open(newEvent({ camera: CAM, startPdt: T0 - 3_600_000 }));
    await s.store.events.close(early.id, T0 - 3_590_000, 'negatives');
    const none = await json<{ error: { message: string } }>(`/api/events/${early.id}/clip.mp4`);
    expect(none.status).toBe(404);
    expect(none.body.error.message).toContain('no recording');
    expect((await api('/api/events/NOSUCHEVENT/clip.mp4')).status).toBe(404);
  });

  it('refuses exports without recording or with bad input, saying what to do', async () => {
    const none = await post('/api/exports', { camera: CAM, from: T0 + 3500, to: T0 + 8000 });
    expect(none.status).toBe(404);
    expect(none.body.error?.message).toContain('no recording');
    expect((await post('/api/exports', { camera: CAM, from: T0, to: T0 + 2 * 3_600_000 })).status).toBe(400);
    expect((await post('/api/exports', { camera: 'nope', from: T0, to: T0 + 1000 })).status).toBe(404);
    expect((await post('/api/exports', { event: 'NOSUCHEVENT' })).status).toBe(404);
    expect((await post('/api/exports', { camera: CAM })).status).toBe(400);
  });
});
