// server.tls: the PEM files for direct HTTPS, read once at start with a message that says which file failed.
import { readFileSync } from 'node:fs';

export function readTls(tls: { cert: string; key: string }): { cert: Buffer; key: Buffer } {
  const read = (what: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw Object.assign(new Error(`cannot read server.tls.${what} ${file} (${(err as NodeJS.ErrnoException).code ?? err})`), {
        code: 'TLS_FILE',
        hint: 'point server.tls.cert and server.tls.key at readable PEM files, or remove server.tls to serve plain HTTP behind a TLS proxy',
      });
    }
  };
  return { cert: read('cert', tls.cert), key: read('key', tls.key) };
}
