// One contract, two supervisors: the scripted FakeSupervisor (test/support/server.ts) that the HTTP and
// socket tests use, and the real CameraSupervisor with real ffmpeg (a testsrc camera, and an RTSP camera
// whose port refuses connections). The same assertions run against both, so whatever the scripted one
// does in other tests is what a real camera does through the server.
import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { io as connectIo, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import type { CameraInfo, ClientToServerEvents, FrameEvent, HealthInfo, ServerToClientEvents, StreamMessage } from '../../server/wire.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const SECRET = 's3cret';
const LIVENESS_MS = 40_000;

/** A local port with nothing listening: connections to it are refused at once. */
async function refusedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((done) => srv.listen(0, '127.0.0.1', done));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((done) => srv.close(() => done()));
  return port;
}

async function until<T>(what: string, fn: () => T | undefined | null | false | Promise<T | undefined | null | false>): Promise<T> {
  const end = Date.now() + LIVENESS_MS;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What the scripted supervisor does by itself; the real one needs nothing. */
function script(s: TestServer, goneUrl: string): () => void {
  const timers: NodeJS.Timeout[] = [];
  timers.push(
    setTimeout(() => {
      s.fakes.get('gone')!.setState({ state: 'offline', reason: `Connection refused: ${goneUrl}` });
      s.fakes.get('cam')!.publish();
    }, 300),
    setInterval(() => {
      const cam = s.fakes.get('cam')!;
      if (cam.snapshot().state === 'live') cam.emitFrame();
    }, 500),
  );
  return () => timers.forEach((t) => clearTimeout(t));
}

describe.each(['scripted', 'real'] as const)('camera contract: %s supervisor', (kind) => {
  it('connecting -> live with the playlist ready before hlsRun says so, frames on both sockets, a refused camera offline and scrubbed', async () => {
    const goneUrl = `rtsp://user:${SECRET}@127.0.0.1:${await refusedPort()}/x`;
    const cameras = [{ id: 'cam', source: 'testsrc', sampleInterval: 0.5 }, { id: 'gone', source: goneUrl }];
    const s = await startTestServer({ cameras }, kind === 'real' ? { real: true } : {});
    const stream = new WebSocket(`${s.url.replace('http', 'ws')}api/stream`);
    const messages: StreamMessage[] = [];
    stream.on('message', (d) => messages.push(JSON.parse(String(d)) as StreamMessage));
    const sio: Socket<ServerToClientEvents, ClientToServerEvents> = connectIo(s.url, { transports: ['websocket'], reconnection: false });
    const ioFrames: FrameEvent[] = [];
    sio.on('frame', (f) => ioFrames.push(f));
    const stopScript = kind === 'scripted' ? script(s, goneUrl) : () => undefined;
    try {
      await until('the socket.io connection', () => sio.connected);
      expect((await sio.emitWithAck('watch', 'cam'))?.id).toBe('cam');
      const states = (id: string): CameraInfo[] =>
        messages.flatMap((m) => (m.type === 'hello' ? m.cameras : m.type === 'camera' ? [m.camera] : [])).filter((c) => c.id === id);
      const get = async (id: string) => (await (await fetch(new URL(`/api/cameras/${id}`, s.url))).json()) as CameraInfo;

      // The camera turns live and announces its run's playlist; only then do players load it.
      const live = await until('cam live with its playlist announced', async () => {
        const c = await get('cam');
        return c.state === 'live' && c.hlsRun === c.run ? c : null;
      });
      expect(live.run).toBeGreaterThanOrEqual(1);
      const seen = states('cam');
      expect(seen[0]?.state === 'connecting' || seen[0]?.state === 'live').toBe(true);
      for (const c of seen) if (c.state !== 'live') expect(c.hlsRun, `a ${c.state} camera claims run ${c.run}'s playlist`).not.toBe(c.run);
      const playlist = await fetch(new URL(live.hls, s.url));
      expect(playlist.status).toBe(200);
      const text = await playlist.text();
      expect(text).toMatch(/^#EXTM3U/);
      expect(text).toContain('#EXT-X-PROGRAM-DATE-TIME:');
      const segment = /^[^#\s].*\.ts$/m.exec(text)?.[0];
      expect(segment).toBeTruthy();
      const seg = await fetch(new URL(`/hls/cam/${segment}`, s.url));
      expect(seg.status).toBe(200);
      expect(seg.headers.get('content-type')).toBe('video/mp2t');
      expect(new Uint8Array(await seg.arrayBuffer())[0]).toBe(0x47); // MPEG-TS sync byte

      // Frames of the live run reach socket.io watchers and the ws stream.
      await until('frames on socket.io', () => ioFrames.length >= 2);
      await until('frames on /api/stream', () => messages.filter((m) => m.type === 'frame').length >= 2);
      for (const f of [...ioFrames, ...messages.filter((m): m is StreamMessage & { type: 'frame' } => m.type === 'frame')]) {
        expect(f.camera).toBe('cam');
        expect(f.run).toBe(live.run);
        expect(Math.abs(f.pdt - Date.now())).toBeLessThan(60_000);
        expect(f.width).toBeGreaterThan(0);
        expect(f.height).toBeGreaterThan(0);
      }

      // The refused camera goes offline with a reason that never carries its credentials.
      const gone = await until('gone offline', async () => {
        const c = await get('gone');
        return c.state === 'offline' && c.reason ? c : null;
      });
      expect(gone.hlsRun).toBeNull();
      expect(JSON.stringify([gone, messages])).not.toContain(SECRET);
      expect(((await (await fetch(new URL('/api/health', s.url))).json()) as HealthInfo).cameras).toBe(2);
    } finally {
      stopScript();
      sio.close();
      stream.close();
      await s.dispose();
    }
  }, LIVENESS_MS * 2);
});
