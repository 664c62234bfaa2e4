// Defect: the stall watchdog judged only sampled frames, so a camera with a 10 s GOP (nothing to decode for up to
// 10 s after joining mid-GOP) and a camera sampled less often than the stall timeout were restarted forever while
// their data flowed. The watchdog now judges packets read; these cameras stay on one run.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRtspServer } from '../support/rtsp.ts';
import { isState, makeSupervisor, sleep, waitForState } from './helpers.ts';

const STALL = 3;
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'vigil-longgop-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('long GOPs and long sampling intervals against a short stall timeout', () => {
  it('a 10 s GOP camera goes live and stays on its first run', async () => {
    const cam = await startRtspServer({ gop: 300, fps: 30 }); // 10 s GOP, joined mid-GOP
    const h = makeSupervisor(dataDir, { id: 'gop10', source: cam.url, sampleInterval: 1, decode: 'auto' }, { stallTimeout: STALL });
    try {
      h.sup.start();
      await waitForState(h.sup, isState('live'), 30_000, 'live');
      await sleep(6000);
      const s = h.sup.snapshot();
      expect(s.state, JSON.stringify(h.states)).toBe('live');
      expect(s.restarts, JSON.stringify(h.states)).toBe(0);
      expect(s.decode).toBe('all'); // keyframes come too rarely for keyframe-only sampling
      expect(h.frames.length).toBeGreaterThanOrEqual(4);
    } finally {
      await h.sup.close();
      await cam.close();
    }
  }, 60_000);

  it('a camera sampled every 4 s with a 3 s stall timeout keeps one run and gets a frame per interval', async () => {
    const cam = await startRtspServer({ gop: 15 });
    const h = makeSupervisor(dataDir, { id: 'slow', source: cam.url, sampleInterval: 4, decode: 'all' }, { stallTimeout: STALL });
    try {
      h.sup.start();
      await waitForState(h.sup, isState('live'), 30_000, 'live');
      await sleep(13_000);
      const s = h.sup.snapshot();
      expect(s.restarts, JSON.stringify(h.states)).toBe(0);
      expect(s.state).toBe('live');
      expect(new Set(h.frames.map((f) => f.run))).toEqual(new Set([1]));
      expect(h.frames.length).toBeGreaterThanOrEqual(3);
      for (let i = 1; i < h.frames.length; i++) expect(h.frames[i]!.pts - h.frames[i - 1]!.pts).toBeGreaterThan(3.5);
    } finally {
      await h.sup.close();
      await cam.close();
    }
  }, 60_000);
});
