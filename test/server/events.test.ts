// socket.io rooms and the plain ws stream, against a real server with scripted cameras.
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
  let client: Client;
  beforeAll(async () => {
    s = await startTestServer({ cameras: [{ id: 'a', source: 'testsrc' }, { id: 'b', source: 'rtsp://u:s3cret@127.0.0.1:1/x' }] });
    client = connect(s.url, { transports: ['websocket'], reconnection: false });
  });
  afterAll(async () => {
    client?.close();
    await s?.dispose();
  });

  it('sends the camera list on connect, without credentials', async () => {
    const cams = await until<CameraInfo[]>((done) => client.once('cameras', done));
    expect(cams.map((c) => c.id)).toEqual(['a', 'b']);
    expect(JSON.stringify(cams)).not.toContain('s3cret');
  });

  it('watch acks with the camera, then delivers only that room', async () => {
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
    client.emit('unwatch', 'a');
    await new Promise((r) => setTimeout(r, 100));
    let got = 0;
    client.on('frame', () => got++);
    s.fakes.get('a')!.emitFrame();
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
