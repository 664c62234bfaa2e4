// A real RTSP camera for tests that behaves like real ones: an ffmpeg feed (testsrc2 with two barcodes burned in,
// RTP over UDP) relayed by gst-rtsp-server (test/support/rtsp_server.py) over RTSP/TCP on a free port. The feed keeps
// encoding while clients come and go and while the server is killed, restarted on the same port, frozen (SIGSTOP)
// and thawed, like a camera rebooting or hanging; clients join wherever the feed is in its GOP (mid-GOP).
//
// Options (startRtspServer({...}); every one optional, defaults in brackets):
//   width, height, fps     picture size and rate [640x360 @ 30]
//   codec                  'h264' | 'h265' (libx265) | 'mjpeg' (RTP/JPEG, RFC 2435: at most 2040x2040) ['h264']
//   profile                H.264 profile: 'baseline' | 'main' (CABAC) | 'high' (CABAC + 8x8 transform) ['baseline']
//   bframes                B-frames between references (H.264 main/high, H.265) [0]
//   slices                 slices per frame (H.264: x264 sliced threads, tune=zerolatency, threads = slices; H.265:
//                          x265 slices) [1]
//   paramSets              where the RTSP server repeats SPS/PPS (VPS) in-band: 'per-slice' before every keyframe slice
//                          (GStreamer's rtph264pay config-interval=-1, many firmwares: with slices > 1 ffmpeg's RTSP
//                          demuxer then splits each keyframe into one packet per slice) | 'per-frame' once before
//                          each keyframe (as the encoder wrote them) ['per-slice']
//   gop                    keyframe interval in frames (key-int-max = min-keyint, no scene cuts) [15]
//   bitrateKbps            video bitrate [max(1500, 0.07 bit per pixel per frame)]
//   audio                  a second track alongside the video: 'aac' (48 kHz mono, MPEG4-GENERIC) | 'pcma' (G.711
//                          A-law, 8 kHz) [none]
//   user, password         require credentials; the URL carries them [none]
//   auth                   'basic' | 'digest' (only with user) ['basic']
//   join                   'mid-gop': the relay keeps running (an internal viewer stays attached), every client
//                          joins wherever the feed is; 'keyframe': no internal viewer, a client arriving while no
//                          other client is connected starts on the feed's next keyframe ['mid-gop']
//   mount                  RTSP path ['/cam']
//   source                 the picture: a lavfi source (e.g. `color=c=0x404040:s=640x360:r=30`) in place of testsrc2
//                          [testsrc2 at width x height @ fps]; size and rate must match width, height and fps
//   filter                 an ffmpeg filtergraph fragment (one input, one output; it may hold its own source chains
//                          joined with `;`) applied after the frame counter band, while each frame's timestamp is the
//                          very wall-clock reading (ms timebase: `t` is Unix seconds) the clock band then burns, e.g.
//                          a scene drawn against the camera's clock (test/support/shape-camera.ts) [none]
// Every frame carries two barcodes (pipelines/ingest/barcode.ts; read with test/support/barcode.ts): the frame counter
// (top band, frame number since the feed started, continuous across server restarts) and the wall clock in Unix ms
// when the frame was made (second band, `readClock`), so tests can compare a frame's pdt with its capture time.
// SPS/PPS (and VPS) come in-band with every keyframe and in the SDP.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { barcodeFilter, clockBandFilter, clockBarcodeFilter } from '../../pipelines/ingest/barcode.ts';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'rtsp_server.py');
/** Debian's python: the python3 first on PATH here cannot import gi. */
const PYTHON = '/usr/bin/python3';
/** Runs argv[1:] in place of this python, to be SIGKILLed when its parent (the test process) dies. */
const EXEC_WITH_PARENT = "import ctypes, os, signal, sys; ctypes.CDLL('libc.so.6').prctl(1, signal.SIGKILL); os.execvp(sys.argv[1], sys.argv[1:])";

export type RtspVideoCodec = 'h264' | 'h265' | 'mjpeg';
export type RtspAudioCodec = 'aac' | 'pcma';
export type H264Profile = 'baseline' | 'main' | 'high';

export interface RtspFeedOptions {
  width?: number;
  height?: number;
  fps?: number;
  /** Keyframe interval in frames. */
  gop?: number;
  codec?: RtspVideoCodec;
  profile?: H264Profile;
  bframes?: number;
  slices?: number;
  paramSets?: 'per-slice' | 'per-frame';
  bitrateKbps?: number;
  audio?: RtspAudioCodec;
  /** Require credentials (basic auth unless `auth: 'digest'`). */
  user?: string;
  password?: string;
  auth?: 'basic' | 'digest';
  join?: 'mid-gop' | 'keyframe';
  mount?: string;
  /** lavfi source of the picture in place of testsrc2. */
  source?: string;
  /** Filtergraph fragment applied between the counter band and the clock band. */
  filter?: string;
}

export interface TestRtspServer {
  port: number;
  /** The camera URL, with the credentials when the server requires them. */
  url: string;
  /** The options in effect, defaults filled in. */
  options: Readonly<ResolvedFeedOptions>;
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

type OptionalFeedKeys = 'audio' | 'user' | 'password' | 'filter';
export type ResolvedFeedOptions = Required<Omit<RtspFeedOptions, OptionalFeedKeys>> & Pick<RtspFeedOptions, OptionalFeedKeys>;

const AAC_RATE = 48_000;

export function resolveFeedOptions(opts: RtspFeedOptions = {}): ResolvedFeedOptions {
  const width = opts.width ?? 640;
  const height = opts.height ?? 360;
  const fps = opts.fps ?? 30;
  const r: ResolvedFeedOptions = {
    width, height, fps, gop: opts.gop ?? 15, codec: opts.codec ?? 'h264', profile: opts.profile ?? 'baseline',
    bframes: opts.bframes ?? 0, slices: opts.slices ?? 1, paramSets: opts.paramSets ?? 'per-slice',
    bitrateKbps: opts.bitrateKbps ?? Math.max(1500, Math.round((width * height * fps * 0.07) / 1000)),
    audio: opts.audio, user: opts.user, password: opts.password, auth: opts.auth ?? 'basic', join: opts.join ?? 'mid-gop',
    mount: opts.mount ?? '/cam', source: opts.source ?? `testsrc2=size=${width}x${height}:rate=${fps}`, filter: opts.filter,
  };
  if (r.codec === 'h264' && r.profile === 'baseline' && r.bframes > 0) throw new Error('H.264 baseline profile has no B-frames: use profile main or high');
  if (r.codec === 'mjpeg' && (width > 2040 || height > 2040)) throw new Error('RTP/JPEG (RFC 2435) carries at most 2040x2040');
  if (opts.auth && !opts.user) throw new Error('auth needs user (and password)');
  return r;
}

/** ffmpeg arguments of the feed: testsrc2 (or `source`) + counter (+ `filter`) + clock, encoded, RTP to `videoPort` (and audio to `audioPort`). */
export function feedArgs(o: ResolvedFeedOptions, videoPort: number, audioPort: number | null): string[] {
  const pix = o.codec === 'mjpeg' ? 'yuvj420p' : 'yuv420p';
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', o.source];
  if (o.audio) args.push('-re', '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${o.audio === 'aac' ? AAC_RATE : 8000}`);
  // With a scene filter, one wall-clock reading per frame serves both the scene and the clock band.
  const clock = o.filter ? `settb=1/1000,setpts=RTCTIME/1000,${o.filter},${clockBandFilter()},setpts=N/FRAME_RATE/TB` : clockBarcodeFilter();
  args.push('-map', '0:v', '-vf', `${barcodeFilter()},${clock},format=${pix}`, ...videoCodecArgs(o));
  args.push('-payload_type', o.codec === 'mjpeg' ? '26' : '96', '-f', 'rtp', `rtp://127.0.0.1:${videoPort}?pkt_size=1200`);
  if (o.audio && audioPort !== null) {
    const codec = o.audio === 'aac' ? ['-c:a', 'aac', '-b:a', '64k', '-ar', String(AAC_RATE)] : ['-c:a', 'pcm_alaw', '-ar', '8000'];
    args.push('-map', '1:a', ...codec, '-ac', '1', '-payload_type', o.audio === 'aac' ? '97' : '8', '-f', 'rtp', `rtp://127.0.0.1:${audioPort}?pkt_size=1200`);
  }
  return args;
}

function videoCodecArgs(o: ResolvedFeedOptions): string[] {
  const rate = ['-b:v', `${o.bitrateKbps}k`];
  // RTP/JPEG (RFC 2435) carries no Huffman tables: the encoder must use the standard ones.
  if (o.codec === 'mjpeg') return ['-c:v', 'mjpeg', '-huffman', 'default', '-q:v', '5', ...rate];
  if (o.codec === 'h265') {
    const params = [`keyint=${o.gop}`, `min-keyint=${o.gop}`, 'scenecut=0', 'repeat-headers=1', `bframes=${o.bframes}`, `slices=${o.slices}`, 'log-level=error'];
    // zerolatency turns the lookahead off, and x265 needs one longer than the B-frame runs.
    if (o.bframes > 0) params.push(`rc-lookahead=${o.bframes + 1}`);
    return ['-c:v', 'libx265', '-preset', 'ultrafast', '-tune', 'zerolatency', ...rate, '-x265-params', params.join(':')];
  }
  // ultrafast turns CABAC and the 8x8 transform off, which makes any profile baseline: turn them back on per profile.
  const features = { baseline: [], main: ['cabac=1'], high: ['cabac=1', '8x8dct=1'] }[o.profile];
  // With tune=zerolatency x264 uses sliced threads: one slice per thread; `slices` pins the count.
  const params = ['repeat-headers=1', `slices=${o.slices}`, ...features];
  return [
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', o.profile, '-bf', String(o.bframes),
    '-g', String(o.gop), '-keyint_min', String(o.gop), '-sc_threshold', '0', ...rate,
    '-threads', String(o.slices), '-x264-params', params.join(':'),
  ];
}

/** AudioSpecificConfig (hex) of ffmpeg's AAC-LC encoder, for the relay's RTP caps. */
function aacConfig(rate: number, channels: number): string {
  const index = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000].indexOf(rate);
  return ((2 << 11) | (index << 7) | (channels << 3)).toString(16).padStart(4, '0');
}

/** `listenPort`: listen there instead of a free port (a camera that comes back on its address with other settings). */
export async function startRtspServer(opts: RtspFeedOptions = {}, listenPort?: number): Promise<TestRtspServer> {
  const o = resolveFeedOptions(opts); // throws on contradictory options (the promise rejects)
  const [port, videoPort, audioPort] = await Promise.all([listenPort ?? freeTcpPort(), freeUdpPort(), o.audio ? freeUdpPort() : Promise.resolve(null)]);
  // Through exec in a python that sets PR_SET_PDEATHSIG: the feed dies with this process even when a test crashes
  // or times out (the pid stays the ffmpeg's).
  const feed = spawn(PYTHON, ['-c', EXEC_WITH_PARENT, 'ffmpeg', ...feedArgs(o, videoPort, audioPort)], { stdio: ['ignore', 'ignore', 'inherit'] });
  feed.on('error', (err) => console.error(`test camera feed: ${err.message}`));
  const serverConfig = JSON.stringify({
    port, mount: o.mount, join: o.join,
    video: { codec: o.codec, udpPort: videoPort, paramSets: o.paramSets },
    audio: o.audio && audioPort !== null
      ? { codec: o.audio, udpPort: audioPort, rate: o.audio === 'aac' ? AAC_RATE : 8000, channels: 1, config: aacConfig(AAC_RATE, 1) }
      : null,
    auth: o.user ? { method: o.auth, user: o.user, password: o.password ?? '' } : null,
  });
  let server: ChildProcess | null = null;
  const launch = async () => {
    const s = spawn(PYTHON, [SCRIPT, serverConfig], { stdio: ['ignore', 'pipe', 'inherit'] });
    s.on('error', (err) => console.error(`test rtsp server: ${err.message}`));
    server = s;
    // A mid-GOP relay is ready when its internal viewer gets media: up to one GOP after start.
    await waitForLine(s, 'ready', 10_000 + (2000 * o.gop) / o.fps);
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
  const cred = o.user ? `${encodeURIComponent(o.user)}:${encodeURIComponent(o.password ?? '')}@` : '';
  return {
    port,
    options: o,
    feedPid: feed.pid,
    url: `rtsp://${cred}127.0.0.1:${port}${o.mount}`,
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
