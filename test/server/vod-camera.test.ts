// Recorded playback and export against a real camera: the real CameraSupervisor records the demo scene (`testsrc`,
// frame counter burned in) for a few seconds; the VOD playlist's PROGRAM-DATE-TIMEs are the recording index's, and
// a copy-cut export of a range starts on the frame the range's first segment starts with (read from the picture).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { silentLogger } from '../../pipelines/log.ts';
import type { RecordedSegment } from '../../pipelines/ingest/recording-index.ts';
import { readBarcodeFromImage } from '../support/barcode.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const run = promisify(execFile);
const CAM = 'demo';

async function firstFrameCounter(file: string): Promise<number | null> {
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', file, '-frames:v', '1', '-f', 'image2pipe', '-vcodec', 'png', '-'], { encoding: 'buffer', maxBuffer: 1 << 26 });
  return readBarcodeFromImage(stdout);
}

describe('recorded playback of a real camera', () => {
  let s: TestServer;
  let rows: RecordedSegment[] = [];

  beforeAll(async () => {
    s = await startTestServer({ cameras: [{ id: CAM, source: 'testsrc' }], hls: { liveSegments: 2, segmentSeconds: 1 } }, { real: true, logger: silentLogger });
    const end = Date.now() + 60_000;
    while ((rows = await s.store.recordings.list(CAM)).length < 4) {
      if (Date.now() > end) throw new Error(`only ${rows.length} recorded segments after 60 s`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await s.cameras.close(); // the recording is made: free the CPU (the files stay)
  }, 90_000);
  afterAll(() => s?.dispose());

  it('the VOD playlist carries the index rows\' PROGRAM-DATE-TIMEs and every segment plays from /recordings', async () => {
    const last = rows[rows.length - 1]!;
    const r = await fetch(new URL(`/api/cameras/${CAM}/vod.m3u8?from=${rows[0]!.pdt}&to=${Math.floor(last.pdt + last.duration * 1000) - 1}`, s.url));
    expect(r.status).toBe(200);
    const text = await r.text();
    const pdts = [...text.matchAll(/#EXT-X-PROGRAM-DATE-TIME:(\S+)/g)].map((m) => Date.parse(m[1]!));
    expect(pdts).toEqual(rows.map((x) => x.pdt));
    for (const uri of text.split('\n').filter((l) => l && !l.startsWith('#'))) {
      const seg = await fetch(new URL(uri, s.url));
      expect(seg.status, uri).toBe(200);
      expect((await seg.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
  });

  it('a copy-cut export of a range lasts its segments and starts on the first one\'s first frame', async () => {
    const [a, b] = [rows[1]!, rows[2]!];
    const made = await fetch(new URL('/api/exports', s.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ camera: CAM, from: a.pdt + 100, to: b.pdt + 100 }) });
    expect(made.status).toBe(202);
    const { id } = (await made.json()) as { id: string };
    const end = Date.now() + 30_000;
    let state = '';
    while (state !== 'done') {
      const st = (await (await fetch(new URL(`/api/exports/${id}`, s.url))).json()) as { state: string; error: string | null };
      expect(st.state, st.error ?? '').not.toBe('failed');
      state = st.state;
      if (Date.now() > end) throw new Error(`export still ${state}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const file = join(s.dataDir, 'check.mp4');
    writeFileSync(file, Buffer.from(await (await fetch(new URL(`/api/exports/${id}/file`, s.url))).arrayBuffer()));
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
    expect(Math.abs(Number(stdout.trim()) - (a.duration + b.duration))).toBeLessThanOrEqual(Math.max(a.duration, b.duration));
    const segFile = join(s.dataDir, 'recordings', CAM, a.file);
    expect(existsSync(segFile)).toBe(true);
    const expected = await firstFrameCounter(segFile);
    expect(expected).not.toBeNull();
    expect(await firstFrameCounter(file)).toBe(expected);
  });
});
