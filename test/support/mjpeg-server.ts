// A real HTTP MJPEG camera for tests, shaped like an ESP32-CAM / cheap IP camera: one encoder that keeps running at
// a known frame rate whether or not anyone watches (testsrc2 + the burned frame counter, JPEG per frame), and a
// node http server answering GET <path> with `multipart/x-mixed-replace` where every part is one JPEG with its
// Content-Length, ESP32-CAM's boundary and framing. Clients join mid-stream, like on a real camera; no part
// carries a timestamp, exactly as on the real thing.
import { spawn } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { barcodeFilter } from '../../pipelines/ingest/barcode.ts';
import { JpegSplitter } from '../../pipelines/ingest/frame-stream.ts';

/** ESP32-CAM's CameraWebServer boundary. */
export const ESP32_BOUNDARY = '123456789000000000000987654321';

export interface MjpegServerOptions {
  fps: number;
  width?: number;
  height?: number;
  path?: string;
}

export interface TestMjpegServer {
  url: string;
  fps: number;
  /** JPEGs produced so far (the counter burned into the next one). */
  produced(): number;
  /** Connected stream clients now. */
  clients(): number;
  close(): Promise<void>;
}

export async function startMjpegServer(opts: MjpegServerOptions): Promise<TestMjpegServer> {
  const { fps, width = 640, height = 360, path = '/video.mjpg' } = opts;
  const encoder = spawn('ffmpeg', [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`,
    '-vf', `${barcodeFilter()},format=yuvj420p`, '-c:v', 'mjpeg', '-q:v', '5', '-f', 'image2pipe', 'pipe:1',
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  encoder.on('error', () => undefined); // a missing ffmpeg shows as no frames; the test's own timeout says so
  const watchers = new Set<ServerResponse>();
  const splitter = new JpegSplitter();
  let produced = 0;
  encoder.stdout!.on('data', (chunk: Buffer) => {
    for (const jpeg of splitter.push(chunk)) {
      produced++;
      const head = `\r\n--${ESP32_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`;
      for (const res of watchers) {
        res.write(head);
        res.write(jpeg);
      }
    }
  });
  const server = createServer((req, res) => {
    if (req.url !== path) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'Content-Type': `multipart/x-mixed-replace;boundary=${ESP32_BOUNDARY}`, 'Cache-Control': 'no-cache' });
    watchers.add(res);
    res.on('close', () => watchers.delete(res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    fps,
    produced: () => produced,
    clients: () => watchers.size,
    close: () =>
      (closed ??= (async () => {
        for (const res of watchers) res.destroy();
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
        if (encoder.exitCode === null && encoder.signalCode === null) {
          const exited = new Promise<void>((r) => encoder.once('close', () => r()));
          encoder.kill('SIGKILL');
          await exited;
        }
      })()),
  };
}
