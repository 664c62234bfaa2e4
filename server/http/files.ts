// Sends files from a fixed folder: live HLS (playlists never cached) and the built dashboard.
// Callers pass an already validated name; `insideFolder` is the last guard against escaping it.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve, sep, extname } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { notFound } from './errors.ts';

const TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export const contentTypeOf = (name: string) => TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';

/** Resolves `rel` under `root`; null when the result would leave `root`. */
export function insideFolder(root: string, rel: string): string | null {
  const base = resolve(root);
  const full = resolve(base, rel);
  return full.startsWith(base + sep) ? full : null;
}

/** Streams one regular file; a missing file is a 404 (live segments disappear as the window slides). */
export async function sendFile(req: IncomingMessage, res: ServerResponse, path: string, cacheControl: string): Promise<void> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw notFound();
    size = st.size;
  } catch {
    throw notFound('file not found');
  }
  const stream = createReadStream(path);
  await new Promise<void>((done, fail) => {
    stream.once('open', () => {
      res.writeHead(200, {
        'content-type': contentTypeOf(path),
        'content-length': size,
        'cache-control': cacheControl,
        'x-content-type-options': 'nosniff',
      });
      if (req.method === 'HEAD') {
        stream.destroy();
        res.end();
        done();
        return;
      }
      stream.pipe(res);
      stream.once('end', done);
    });
    stream.once('error', (err) => (res.headersSent ? (res.destroy(), done()) : fail(notFoundOr(err))));
    res.once('close', () => stream.destroy());
  });
}

function notFoundOr(err: NodeJS.ErrnoException): Error {
  return err.code === 'ENOENT' ? notFound('file not found') : err;
}
