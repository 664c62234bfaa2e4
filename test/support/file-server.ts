// A local HTTP server serving generated files like a model hub: HEAD, GET with Range (resume), and an
// optional throttle so a download is still running when a test acts. Records what was aborted.
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

export interface FileServer {
  baseUrl: string;
  /** Paths requested with GET, in order, with the Range asked for. */
  gets: { path: string; range: string | undefined }[];
  /** Bytes sent per path. */
  sent: Map<string, number>;
  /** GETs whose connection closed before the body was complete. */
  aborted: string[];
  setThrottle(t: { bytes: number; everyMs: number } | undefined): void;
  close(): Promise<void>;
}

export async function startFileServer(files: Record<string, string>, throttle?: { bytes: number; everyMs: number }): Promise<FileServer> {
  const bodies = new Map(Object.entries(files).map(([name, path]) => [`/${name}`, readFileSync(path)]));
  const state: FileServer = { baseUrl: '', gets: [], sent: new Map(), aborted: [], setThrottle: (t) => (throttle = t), close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const body = bodies.get(path);
    if (!body) {
      res.writeHead(path === '/' ? 200 : 404).end();
      return;
    }
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const end = m && m[2] ? Number(m[2]) + 1 : body.length;
    const headers = { 'content-length': String(end - start), 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    if (m) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end - 1}/${body.length}` });
    else res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    state.gets.push({ path, range: req.headers.range });
    let at = start;
    let timer: NodeJS.Timeout | undefined;
    res.on('close', () => {
      clearTimeout(timer);
      if (at < end) state.aborted.push(path);
    });
    const pump = () => {
      const n = throttle ? Math.min(throttle.bytes, end - at) : end - at;
      res.write(body.subarray(at, at + n));
      at += n;
      state.sent.set(path, (state.sent.get(path) ?? 0) + n);
      if (at >= end) res.end();
      else timer = setTimeout(pump, throttle?.everyMs ?? 0);
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}
