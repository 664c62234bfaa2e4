// Cameras that fail before their first picture, against real servers: a TCP port that accepts and never answers, a
// refused port, a gst-rtsp-server camera with basic auth and a wrong password, a wrong RTSP path and an HTTP 404.
// Each reason says what happened and what to do; the log gets one warn line per reason, not one per attempt; a
// wrong password slows down to minutes after a few tries.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeTcpPort, startRtspServer, type TestRtspServer } from '../support/rtsp.ts';
import { makeSupervisor, sleep, waitForState, type Harness } from './helpers.ts';

const USER = 'admin';
const PASSWORD = 'right-Pa55';
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'vigil-failures-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

interface LogLine {
  level: number;
  msg: string;
  reason?: string;
  suppressed?: number;
}
const parsed = (h: Harness): LogLine[] => h.logs.map((l) => JSON.parse(l) as LogLine);
const warnings = (h: Harness) => parsed(h).filter((l) => l.level === 40 && l.msg.startsWith('camera offline'));

async function withCamera(camera: Record<string, unknown>, ingest: Record<string, unknown>, body: (h: Harness) => Promise<void>): Promise<void> {
  const h = makeSupervisor(dataDir, camera, ingest);
  h.sup.start();
  try {
    await body(h);
  } finally {
    await h.sup.close();
  }
}

function listen<T extends Server | HttpServer>(server: T): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

describe('a camera that accepts TCP and never answers', () => {
  let silent: Server;
  const sockets = new Set<Socket>();
  let port: number;
  beforeAll(async () => {
    silent = createServer((s) => {
      sockets.add(s);
      s.on('data', () => {}); // reads the RTSP request, never replies
    });
    port = await listen(silent);
  });
  afterAll(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });

  it('is reported as not answering (not as "invalid data")', async () => {
    await withCamera({ source: `rtsp://127.0.0.1:${port}/stream` }, { rtspTimeout: 1 }, async (h) => {
      const s = await waitForState(h.sup, (x) => x.state === 'offline' && x.reason !== null, 20_000, 'offline');
      expect(s.reason).toBe("camera accepted the connection but did not answer within 1 s: check that the port is the camera's RTSP port (usually 554) and that the camera is not overloaded");
      expect(sockets.size).toBeGreaterThan(0); // it did connect
    });
  });
});

describe('a refused port', () => {
  it('says so with what to do, logs one warn line for many attempts, and counts the repeats it left out', async () => {
    const port = await freeTcpPort();
    await withCamera({ source: `rtsp://${USER}:${PASSWORD}@127.0.0.1:${port}/cam` }, { backoff: { initialMs: 100, maxMs: 200 } }, async (h) => {
      const s = await waitForState(h.sup, (x) => x.restarts >= 5, 30_000, 'five retries');
      expect(s.reason).toBe('connection refused: nothing listens on that port: check the camera is on and the port in the URL (RTSP is usually 554)');
      const warns = warnings(h);
      expect(warns).toHaveLength(1); // rate-limited: one line per reason per minute
      expect(warns[0]!.reason).toBe(s.reason);
      expect(h.logs.join('\n')).not.toContain(PASSWORD);
    });
  });

  it('a state change after the repeats says how many were left out', async () => {
    const port = await freeTcpPort();
    const blocker = createServer((s) => s.on('data', () => {}));
    await withCamera({ source: `rtsp://127.0.0.1:${port}/cam` }, { rtspTimeout: 1, backoff: { initialMs: 100, maxMs: 200 } }, async (h) => {
      await waitForState(h.sup, (x) => x.restarts >= 3, 30_000, 'three refused attempts');
      blocker.listen(port, '127.0.0.1'); // now it accepts and never answers: a new reason
      await waitForState(h.sup, (x) => /did not answer/.test(x.reason ?? ''), 20_000, 'did not answer');
      const warns = warnings(h);
      expect(warns.map((w) => w.reason!.split(':')[0])).toEqual(['connection refused', 'camera accepted the connection but did not answer within 1 s']);
      expect(warns[1]!.suppressed).toBeGreaterThanOrEqual(2);
      expect(warns[1]!.msg).toMatch(/\(\d+ repeated state lines suppressed since the last one\)$/);
    });
    blocker.close();
  });
});

describe('an RTSP camera with basic auth (gst-rtsp-server)', () => {
  let server: TestRtspServer;
  beforeAll(async () => {
    server = await startRtspServer({ user: USER, password: PASSWORD });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a wrong password backs off for minutes after 3 failures and says so; nothing leaks the password', async () => {
    const source = server.url.replace(PASSWORD, 'wrong-Guess');
    await withCamera({ id: 'badpw', source }, { backoff: { initialMs: 100, maxMs: 200 } }, async (h) => {
      const first = await waitForState(h.sup, (x) => x.state === 'offline' && x.reason !== null, 15_000, 'offline');
      expect(first.reason).toBe('authentication failed (401): check the user and password');
      const slow = await waitForState(h.sup, (x) => /times; next try in/.test(x.reason ?? ''), 15_000, 'the slow retry');
      expect(slow.reason).toBe('authentication failed (401) 3 times; next try in 5 min: check the user and password');
      await sleep(3000); // the normal policy would have retried ~15 times by now
      expect(h.sup.snapshot().restarts).toBe(slow.restarts);
      expect(h.sup.snapshot().state).toBe('offline');
      expect(warnings(h).map((w) => w.reason)).toEqual([first.reason, slow.reason]);
      expect([...h.logs, ...h.sup.stderrTail(), JSON.stringify(h.states)].join('\n')).not.toContain('wrong-Guess');
    });
  });

  it('a wrong path is "stream not found (404)" with what to do', async () => {
    await withCamera({ source: server.url.replace('/cam', '/nope') }, {}, async (h) => {
      const s = await waitForState(h.sup, (x) => x.state === 'offline' && x.reason !== null, 15_000, 'offline');
      expect(s.reason).toBe("stream not found (404): check the path in the URL (the camera's manual lists its stream paths)");
    });
  });
});

describe('an HTTP source answering 404', () => {
  let http: HttpServer;
  let port: number;
  beforeAll(async () => {
    http = createHttpServer((_req, res) => res.writeHead(404).end('no such stream'));
    port = await listen(http);
  });
  afterAll(() => {
    http.closeAllConnections();
    http.close();
  });

  it('is "stream not found (404)"', async () => {
    await withCamera({ source: 'testsrc', inputArgs: ['-i', `http://127.0.0.1:${port}/video.mjpg`] }, {}, async (h) => {
      const s = await waitForState(h.sup, (x) => x.state === 'offline' && x.reason !== null, 15_000, 'offline');
      expect(s.reason).toMatch(/^stream not found \(404\): check the path in the URL/);
    });
  });
});

describe('child process errors', () => {
  it('a missing ffmpeg is a clear offline reason, never an uncaught exception', async () => {
    await withCamera({ source: 'testsrc' }, { ffmpegPath: join(dataDir, 'no-such-ffmpeg') }, async (h) => {
      const s = await waitForState(h.sup, (x) => x.state === 'offline' && x.reason !== null, 15_000, 'offline');
      expect(s.reason).toBe(`program not found (${join(dataDir, 'no-such-ffmpeg')}): install ffmpeg 5.1 or newer, or set ingest.ffmpegPath / ingest.ffprobePath`);
      await waitForState(h.sup, (x) => x.restarts >= 2, 10_000, 'retries');
    });
  });
});
