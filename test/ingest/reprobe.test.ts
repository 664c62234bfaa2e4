// Defect 3(d): the probe was cached for the supervisor's life, so a camera that came back from a reboot with another
// resolution kept being scaled (and its boxes mapped, sourceW/sourceH) with the old one. Camera A (640x360) stops;
// camera B (320x180) starts on the same address, like a reboot into other settings. The next run sees another
// stream than probed, says so, probes again and goes on with the new size.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRtspServer, type TestRtspServer } from '../support/rtsp.ts';
import { isState, makeSupervisor, nextFrames, waitForState } from './helpers.ts';

describe('re-probe', () => {
  it('a camera that comes back with another size is probed again and sampled at the new size', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vigil-reprobe-'));
    const a = await startRtspServer({ width: 640, height: 360, gop: 15 });
    let b: TestRtspServer | null = null;
    const h = makeSupervisor(dataDir, { id: 'reboot', source: a.url, sampleInterval: 0.5, decode: 'all' });
    try {
      h.sup.start();
      await waitForState(h.sup, isState('live'), 30_000, 'live on A');
      const [before] = await nextFrames(h.sup, 1, 15_000);
      expect([before!.sourceW, before!.sourceH]).toEqual([640, 360]);
      // The camera reboots into another resolution: the same address answers with 320x180 (ffmpeg's exit and the
      // restart race the new server; either way the next run that connects sees the new stream).
      await a.close();
      b = await startRtspServer({ width: 320, height: 180, gop: 15 }, a.port);
      const changed = await waitForState(h.sup, (s) => /camera now sends/.test(s.reason ?? ''), 30_000, 'change noticed');
      expect(changed.reason).toBe('camera now sends h264 320x180 (probed h264 640x360): probing again');
      await waitForState(h.sup, isState('live'), 30_000, 'live on B');
      const [after] = await nextFrames(h.sup, 1, 15_000);
      expect([after!.sourceW, after!.sourceH]).toEqual([320, 180]);
      expect(after!.width).toBeLessThan(before!.width); // scaled from the new size, not the probed one
    } finally {
      await h.sup.close();
      await Promise.all([a.close(), b?.close()]);
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
