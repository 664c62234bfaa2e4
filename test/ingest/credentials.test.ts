// Defect 9 end to end: a camera whose password contains "@" and percent-encoded characters, refused by a real
// port, through real ffprobe/ffmpeg: neither the log, the stderr tail, the state reason nor the API view keeps
// any part of the credentials.
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toCameraInfo } from '../../server/cameras/manager.ts';
import { secretsOf } from '../../config/redact.ts';
import { makeSupervisor, waitForState, type Harness } from './helpers.ts';

let dataDir: string;
beforeAll(async () => void (dataDir = await mkdtemp(join(tmpdir(), 'vigil-creds-'))));
afterAll(() => rm(dataDir, { recursive: true, force: true }));

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Every place a credential could leak to: logs, ffmpeg's stderr tail, the snapshot and the API view. */
function everythingSeen(h: Harness, source: string): string {
  const snap = h.sup.snapshot();
  return [...h.logs, ...h.sup.stderrTail(), JSON.stringify(snap), JSON.stringify(toCameraInfo(snap, secretsOf(source)))].join('\n');
}

describe('credentials with "@" never leak', () => {
  for (const scheme of ['rtsp', 'http', 'rtmp'] as const) {
    it(`${scheme}: log, stderr tail, reason and API are clean`, async () => {
      const port = await closedPort();
      const path = scheme === 'http' ? 'video.mjpg' : scheme === 'rtmp' ? 'live/cam' : 'stream';
      const source = `${scheme}://ad%6Din:Sec@ret99%21@127.0.0.1:${port}/${path}`;
      const h = makeSupervisor(dataDir, { id: `creds-${scheme}`, source });
      h.sup.start();
      try {
        const off = await waitForState(h.sup, (s) => s.state === 'offline', 20_000, 'offline');
        expect(off.reason).toMatch(/refused/);
        const everything = everythingSeen(h, source);
        // ffmpeg itself printed the URL (so there was something to scrub) ...
        expect(everything).toContain(`${scheme}://***@127.0.0.1:${port}`);
        // ... and no fragment of the user or password survived, raw or decoded.
        expect(everything).not.toMatch(/Sec|ret99|ad%6Din|admin/);
      } finally {
        await h.sup.close();
      }
    });
  }

  it('rtmp with credentials in the query (Reolink style): nothing of them anywhere', async () => {
    const port = await closedPort();
    const source = `rtmp://127.0.0.1:${port}/bcs/channel0_main.bcs?channel=0&stream=0&user=ad%6Din&password=Sec@ret99%21`;
    const h = makeSupervisor(dataDir, { id: 'creds-reolink', source });
    h.sup.start();
    try {
      const off = await waitForState(h.sup, (s) => s.state === 'offline', 20_000, 'offline');
      expect(off.reason).toMatch(/refused/);
      const everything = everythingSeen(h, source);
      expect(everything).not.toMatch(/Sec|ret99|ad%6Din|admin/);
    } finally {
      await h.sup.close();
    }
  });
});
