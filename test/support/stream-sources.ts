// Camera-like network sources made with real ffmpeg, each burning the frame counter (pipelines/ingest/barcode.ts):
//   - HLS: ffmpeg keeps writing a live playlist (H.264 or H.265) that a node http server serves, like an NVR or a
//     cloud relay; the encoder runs whether or not anyone watches, so clients join at the live edge mid-stream.
//   - RTMP: ffmpeg serving FLV with `-listen 1` (what a Reolink's RTMP port looks like to a client);
//   - SRT: ffmpeg as an SRT listener sending MPEG-TS (H.264 or H.265).
// ffmpeg's RTMP/SRT listeners serve one client per process and exit when it leaves, so a loop starts a fresh one
// on the same port after every session (the probe, then the camera run); each session starts at counter 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { barcodeFilter } from '../../pipelines/ingest/barcode.ts';

export type TestCodec = 'h264' | 'hevc';

export interface StreamSourceOptions {
  fps?: number;
  width?: number;
  height?: number;
  codec?: TestCodec;
  /** Keyframe interval in frames. */
  gop?: number;
}

export interface TestStreamSource {
  url: string;
  fps: number;
  close(): Promise<void>;
}

/** ffmpeg arguments: live test pattern with the counter, encoded like a camera would. */
function encoderArgs(o: StreamSourceOptions): string[] {
  const { fps = 15, width = 640, height = 360, codec = 'h264', gop = fps } = o;
  const enc = codec === 'h264'
    ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-threads', '1']
    // x265 prints an info banner per start; log-level=error keeps the test output quiet.
    : ['-c:v', 'libx265', '-preset', 'ultrafast', '-tune', 'zerolatency', '-x265-params', 'log-level=error'];
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`,
    '-vf', `${barcodeFilter()},format=yuv420p`, ...enc, '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0', '-b:v', '800k',
  ];
}

function stop(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('close', () => resolve());
    child.kill('SIGKILL');
  });
}

/** A live HLS stream served over local HTTP: `<url>` is its index.m3u8. Resolves once two segments are listed. */
export async function startHlsSource(o: StreamSourceOptions = {}): Promise<TestStreamSource> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-hls-src-'));
  const enc = spawn('ffmpeg', [...encoderArgs(o), '-f', 'hls', '-hls_time', '1', '-hls_list_size', '6',
    '-hls_flags', 'delete_segments+independent_segments+temp_file', '-hls_segment_filename', join(dir, 's%d.ts'), join(dir, 'index.m3u8')],
  { stdio: ['ignore', 'ignore', 'inherit'] });
  enc.on('error', () => undefined);
  const http = createHttpServer(async (req, res) => {
    const name = basename(new URL(req.url ?? '/', 'http://x').pathname);
    try {
      const body = await readFile(join(dir, name));
      res.writeHead(200, { 'Content-Type': name.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp2t' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/live/index.m3u8`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = await readFile(join(dir, 'index.m3u8'), 'utf8').catch(() => '');
    if ((text.match(/#EXTINF/g) ?? []).length >= 2) break;
    if (Date.now() > deadline || enc.exitCode !== null) throw new Error('HLS source did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    fps: o.fps ?? 15,
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
      await stop(enc);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Restarts a one-client ffmpeg listener after every session until closed. */
function listenerLoop(args: string[]): { close(): Promise<void> } {
  let child: ChildProcess | null = null;
  let closed = false;
  const launch = () => {
    if (closed) return;
    child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'ignore'] });
    child.on('error', () => undefined);
    child.once('close', () => setTimeout(launch, 50));
  };
  launch();
  return {
    close: async () => {
      closed = true;
      await stop(child);
    },
  };
}

async function freePort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'udp') {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const port = sock.address().port;
    await new Promise<void>((r) => sock.close(() => r()));
    return port;
  }
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** An RTMP server (H.264 in FLV) at rtmp://127.0.0.1:<port>/live/cam. */
export async function startRtmpSource(o: StreamSourceOptions = {}): Promise<TestStreamSource> {
  const port = await freePort('tcp');
  const url = `rtmp://127.0.0.1:${port}/live/cam`;
  const loop = listenerLoop([...encoderArgs({ ...o, codec: 'h264' }), '-f', 'flv', '-listen', '1', url]);
  await new Promise((r) => setTimeout(r, 500)); // the first listener binds
  return { url, fps: o.fps ?? 15, close: () => loop.close() };
}

/** An SRT listener (MPEG-TS, H.264 or H.265) at srt://127.0.0.1:<port>. */
export async function startSrtSource(o: StreamSourceOptions = {}): Promise<TestStreamSource> {
  const port = await freePort('udp');
  const loop = listenerLoop([...encoderArgs(o), '-f', 'mpegts', `srt://127.0.0.1:${port}?mode=listener`]);
  await new Promise((r) => setTimeout(r, 500));
  return { url: `srt://127.0.0.1:${port}?mode=caller`, fps: o.fps ?? 15, close: () => loop.close() };
}
