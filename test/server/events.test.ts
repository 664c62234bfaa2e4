// socket.io rooms and the plain ws stream, against a real server with scripted cameras (the scripted
// supervisor keeps the real one's contract: test/server/camera-contract.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import type { CameraInfo, ClientToServerEvents, FrameEvent, ServerToClientEvents, StreamMessage } from '../../server/wire.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

const until = <T>(register: (done: (v: T) => void) => void, ms = 3000) =>
  new Promise<T>((done, fail) => {
    const t = setTimeout(() => fail(new Error('timed out')), ms);
    register((v) => {
      clearTimeout(t);
      done(v);
    });
  });

describe('socket.io hub', () => {
  let s: TestServer;
  const clients: Client[] = [];
  /** A fresh client per test: no test depends on another's rooms. */
  const open = () => {
    const c: Client = connect(s.url, { transports: ['websocket'], reconnection: false });
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    s = await startTestServer({ cameras: [{ id: 'a', source: 'testsrc' }, { id: 'b', source: 'rtsp://u:s3cret@127.0.0.1:1/x' }] });
  });
  afterAll(async () => {
    clients.forEach((c) => c.close());
    await s?.dispose();
  });

  it('sends the camera list on connect, without credentials', async () => {
    const client = open();
    const cams = await until<CameraInfo[]>((done) => client.once('cameras', done));
    expect(cams.map((c) => c.id)).toEqual(['a', 'b']);
    expect(JSON.stringify(cams)).not.toContain('s3cret');
  });

  it('watch acks with the camera, then delivers only that room', async () => {
    const client = open();
    const cam = await client.emitWithAck('watch', 'a');
    expect(cam?.id).toBe('a');
    expect(await client.emitWithAck('watch', 'missing')).toBeNull();
    const frames: FrameEvent[] = [];
    client.on('frame', (f) => frames.push(f));
    const got = until<FrameEvent>((done) => client.once('frame', done));
    s.fakes.get('b')!.emitFrame(1000); // not watched: must not arrive
    const sent = s.fakes.get('a')!.emitFrame(2000);
    const ev = await got;
    expect(ev).toEqual({ camera: 'a', run: 1, seq: sent.seq, pdt: 2000, width: 1288, height: 728 });
    expect(Object.keys(ev)).not.toContain('jpeg');
    const state = until<CameraInfo>((done) => client.once('camera', done));
    s.fakes.get('a')!.setState({ state: 'live' });
    expect((await state).state).toBe('live');
    await new Promise((r) => setTimeout(r, 100));
    expect(frames.every((f) => f.camera === 'a')).toBe(true);
  });

  it('unwatch leaves the room', async () => {
    const client = open();
    expect((await client.emitWithAck('watch', 'a'))?.id).toBe('a');
    const first = until<FrameEvent>((done) => client.once('frame', done));
    s.fakes.get('a')!.emitFrame(3000);
    expect((await first).pdt).toBe(3000); // in the room: frames arrive
    client.emit('unwatch', 'a');
    await new Promise((r) => setTimeout(r, 100));
    let got = 0;
    client.on('frame', () => got++);
    s.fakes.get('a')!.emitFrame(4000);
    await new Promise((r) => setTimeout(r, 150));
    expect(got).toBe(0);
  });
});

describe('/api/stream websocket', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ cameras: [{ id: 'a', source: 'testsrc' }, { id: 'b', source: 'rtsp://u:s3cret@127.0.0.1:1/x' }] });
  });
  afterAll(() => s?.dispose());

  const open = (query = '') => {
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}api/stream${query}`);
    const messages: StreamMessage[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(String(d)) as StreamMessage));
    return { ws, messages, ready: until<void>((done) => ws.once('open', () => done())) };
  };
  const waitFor = async (messages: StreamMessage[], pred: (m: StreamMessage) => boolean) => {
    for (let i = 0; i < 60 && !messages.some(pred); i++) await new Promise((r) => setTimeout(r, 25));
    return messages.find(pred);
  };

  it('says hello with all cameras, then streams frames and state as JSON', async () => {
    const c = open();
    await c.ready;
    const hello = await waitFor(c.messages, (m) => m.type === 'hello');
    expect(hello?.type === 'hello' && hello.cameras.map((x) => x.id)).toEqual(['a', 'b']);
    s.fakes.get('b')!.emitFrame(5000);
    s.fakes.get('a')!.setState({ state: 'offline', reason: 'rtsp://u:s3cret@127.0.0.1:1/x refused' });
    expect(await waitFor(c.messages, (m) => m.type === 'frame' && m.camera === 'b' && m.pdt === 5000)).toBeTruthy();
    const cam = await waitFor(c.messages, (m) => m.type === 'camera');
    expect(cam?.type === 'camera' && cam.camera.state).toBe('offline');
    expect(JSON.stringify(c.messages)).not.toContain('s3cret');
    c.ws.close();
  });

  it('filters by ?camera=', async () => {
    const c = open('?camera=a');
    await c.ready;
    s.fakes.get('b')!.emitFrame(6000);
    s.fakes.get('a')!.emitFrame(7000);
    expect(await waitFor(c.messages, (m) => m.type === 'frame' && m.pdt === 7000)).toBeTruthy();
    expect(c.messages.some((m) => m.type === 'frame' && m.camera === 'b')).toBe(false);
    const hello = c.messages[0];
    expect(hello?.type === 'hello' && hello.cameras.map((x) => x.id)).toEqual(['a']);
    c.ws.close();
  });

  it('rejects an unknown camera filter and unknown upgrade paths', async () => {
    const status = (path: string) =>
      new Promise<number>((done) => {
        const ws = new WebSocket(`${s.url.replace('http', 'ws')}${path}`);
        ws.on('unexpected-response', (_req, res) => done(res.statusCode ?? 0));
        ws.on('error', () => done(-1));
      });
    expect(await status('api/stream?camera=nope')).toBe(404);
    expect(await status('api/other')).toBe(404);
  });

  it('refuses websockets opened by another site, on both endpoints', async () => {
    const evil = { headers: { origin: 'http://evil.example' } };
    const status = await new Promise<number>((done) => {
      const ws = new WebSocket(`${s.url.replace('http', 'ws')}api/stream`, evil);
      ws.on('unexpected-response', (_req, res) => done(res.statusCode ?? 0));
      ws.on('open', () => done(101));
    });
    expect(status).toBe(403);
    const own = new WebSocket(`${s.url.replace('http', 'ws')}api/stream`, { headers: { origin: s.url.replace(/\/$/, '') } });
    await until<void>((done) => own.once('open', () => done()));
    own.close();
    const sio = connect(s.url, { transports: ['websocket'], reconnection: false, extraHeaders: evil.headers });
    const err = await until<Error>((done) => sio.once('connect_error', done));
    expect(err).toBeTruthy();
    sio.close();
  });

  it('closes stream clients on shutdown', async () => {
    const s2 = await startTestServer({ cameras: [{ id: 'a', source: 'testsrc' }] });
    const ws = new WebSocket(`${s2.url.replace('http', 'ws')}api/stream`);
    await until<void>((done) => ws.once('open', () => done()));
    const closed = until<number>((done) => ws.once('close', (code) => done(code)));
    await s2.dispose();
    expect(await closed).toBe(1001);
    expect(s2.fakes.get('a')!.closed).toBe(true);
  });
});

describe('/api/stream liveness and slow clients', () => {
  const connect = (s: TestServer, opts: WebSocket.ClientOptions = {}) => {
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}api/stream`, opts);
    const messages: StreamMessage[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(String(d)) as StreamMessage));
    return { ws, messages, open: until<void>((done) => ws.once('open', () => done())) };
  };

  it('drops a client that stops answering pings, and keeps one that answers', async () => {
    const s = await startTestServer({ cameras: [{ id: 'a', source: 'testsrc' }] }, { stream: { heartbeatMs: 150 } });
    try {
      const dead = connect(s, { autoPong: false });
      const alive = connect(s);
      await Promise.all([dead.open, alive.open]);
      let pings = 0;
      alive.ws.on('ping', () => pings++);
      const closed = until<number>((done) => dead.ws.once('close', (code) => done(code)), 3000);
      expect(await closed).toBe(1006); // terminated, no close handshake
      await new Promise((r) => setTimeout(r, 400));
      expect(pings).toBeGreaterThanOrEqual(3);
      expect(alive.ws.readyState).toBe(WebSocket.OPEN);
      // The survivor still gets events.
      s.fakes.get('a')!.emitFrame(42);
      await until<void>((done) => alive.ws.on('message', (d) => String(d).includes('"pdt":42') && done()));
      alive.ws.close();
    } finally {
      await s.dispose();
    }
  });

  it('a client that stops reading gets frames skipped and camera states coalesced, ending on the latest state', async () => {
    const s = await startTestServer({ cameras: [{ id: 'a', source: 'testsrc' }] }, { stream: { slowClientBytes: 16 * 1024 } });
    try {
      const slow = connect(s);
      await slow.open;
      for (let i = 0; i < 100 && slow.messages.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(slow.messages[0]?.type).toBe('hello');
      slow.ws.pause(); // stop reading: the kernel buffers fill, then the server's send buffer
      const fake = s.fakes.get('a')!;
      // Enough to overflow the loopback socket buffers (~4 MB here) well past the bound.
      const FRAMES = 120_000;
      const STATES = 400;
      for (let i = 0; i < FRAMES; i++) {
        fake.emitFrame(i + 1);
        if (i % (FRAMES / STATES) === 0) fake.setState({ reason: `state ${i / (FRAMES / STATES) + 1}` });
      }
      fake.setState({ reason: 'final' });
      slow.ws.resume();
      const last = () => slow.messages.findLast((m) => m.type === 'camera');
      for (let i = 0; i < 100 && !(last()?.type === 'camera' && (last() as { camera: { reason: string } }).camera.reason === 'final'); i++) await new Promise((r) => setTimeout(r, 50));
      const frames = slow.messages.filter((m) => m.type === 'frame').length;
      const states = slow.messages.filter((m) => m.type === 'camera').map((m) => (m.type === 'camera' ? m.camera.reason : null));
      console.log('slow stream client:', JSON.stringify({ framesSent: FRAMES, framesReceived: frames, statesSent: STATES + 1, statesReceived: states.length }));
      expect(states.at(-1)).toBe('final');
      expect(frames).toBeGreaterThan(0);
      expect(frames).toBeLessThan(FRAMES);
      expect(states.length).toBeLessThan(STATES + 1);
      // Coalescing keeps order: states arrive oldest to newest.
      const numbers = states.slice(0, -1).map((r) => Number(/state (\d+)/.exec(r ?? '')?.[1]));
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
      slow.ws.close();
    } finally {
      await s.dispose();
    }
  });
});
