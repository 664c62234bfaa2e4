// A real RTSP camera for tests: an ffmpeg feed (testsrc2 + the frame counter barcode, x264, RTP over UDP) relayed by
// gst-rtsp-server (test/support/rtsp_server.py) over RTSP/TCP on a free port. The server can be killed, restarted
// on the same port, frozen (SIGSTOP) and thawed while the feed keeps counting, like a camera rebooting or hanging.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { barcodeFilter } from '../../pipelines/ingest/barcode.ts';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'rtsp_server.py');
/** Debian's python: the python3 first on PATH here cannot import gi. */
const PYTHON = '/usr/bin/python3';

export interface RtspFeedOptions {
  width?: number;
  height?: number;
  fps?: number;
  /** Keyframe interval in frames. */
  gop?: number;
  /** Require basic auth with these credentials. */
  user?: string;
  password?: string;
  mount?: string;
}

export interface TestRtspServer {
  port: number;
  /** The camera URL, with the credentials when the server requires them. */
  url: string;
  /** PID of the feeding ffmpeg (a child of this process too, not part of the camera under test). */
  feedPid: number | undefined;
  /** PID of the RTSP server process (changes on restart). */
  pid(): number | undefined;
  /** Kills the server (SIGKILL): clients see the socket close. */
  kill(): Promise<void>;
  /** Starts the server again on the same port. */
  restart(): Promise<void>;
  freeze(): void;
  thaw(): void;
  /** Stops the server and the feed. */
  close(): Promise<void>;
}

export async function startRtspServer(opts: RtspFeedOptions = {}): Promise<TestRtspServer> {
  const { width = 640, height = 360, fps = 30, gop = 15, mount = '/cam' } = opts;
  const [port, udpPort] = await Promise.all([freeTcpPort(), freeUdpPort()]);
  const feed = spawn('ffmpeg', [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`,
    '-vf', `${barcodeFilter()},format=yuv420p`, '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency',
    '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0', '-b:v', '1500k',
    // One slice per frame and SPS/PPS in-band at every keyframe: what a simple camera sends.
    '-threads', '1', '-x264-params', 'repeat-headers=1', '-f', 'rtp', `rtp://127.0.0.1:${udpPort}?pkt_size=1200`,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  let server: ChildProcess | null = null;
  const auth = opts.user ? [opts.user, opts.password ?? ''] : [];
  const launch = async () => {
    server = spawn(PYTHON, [SCRIPT, String(port), String(udpPort), mount, ...auth], { stdio: ['ignore', 'pipe', 'inherit'] });
    await waitForLine(server, 'ready', 10_000);
  };
  const killServer = async () => {
    const s = server;
    server = null;
    if (!s || s.exitCode !== null || s.signalCode !== null) return;
    const gone = new Promise((r) => s.once('exit', r));
    s.kill('SIGCONT');
    s.kill('SIGKILL');
    await gone;
  };
  const stopFeed = async () => {
    if (feed.exitCode !== null || feed.signalCode !== null) return;
    const gone = new Promise((r) => feed.once('exit', r));
    feed.kill('SIGKILL');
    await gone;
  };
  try {
    await launch();
  } catch (err) {
    await Promise.all([killServer(), stopFeed()]);
    throw err;
  }
  const cred = opts.user ? `${encodeURIComponent(opts.user)}:${encodeURIComponent(opts.password ?? '')}@` : '';
  return {
    port,
    feedPid: feed.pid,
    url: `rtsp://${cred}127.0.0.1:${port}${mount}`,
    pid: () => server?.pid,
    kill: killServer,
    restart: launch,
    freeze: () => void server?.kill('SIGSTOP'),
    thaw: () => void server?.kill('SIGCONT'),
    close: async () => {
      await Promise.all([killServer(), stopFeed()]);
    },
  };
}

function waitForLine(child: ChildProcess, text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`rtsp server not ready after ${timeoutMs} ms: ${out}`)), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`rtsp server exited with ${code}: ${out}`));
    });
  });
}

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', () => {
      const { port } = sock.address();
      sock.close(() => resolve(port));
    });
  });
}
