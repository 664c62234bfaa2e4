// Every request target is checked once, before routing: no `.`/`..` segment (raw, percent-encoded or
// double-encoded), no encoded slash or backslash, no NUL, no empty segment, and only origin-form
// targets. The file routes add their own name patterns and @fastify/send its root check on top, so
// nothing can be resolved outside the folder a route serves.
import { Errors } from './errors.ts';

/** Returns the raw path of a request target, or throws BAD_PATH for anything that could climb out of a folder. */
export function checkPath(target: string): string {
  if (!target.startsWith('/')) throw Errors.BAD_PATH();
  const raw = target.split('?')[0] as string;
  if (raw.includes('//')) throw Errors.BAD_PATH();
  for (const seg of raw.split('/')) {
    let dec: string;
    try {
      dec = decodeURIComponent(seg);
    } catch {
      throw Errors.BAD_REQUEST('malformed percent-encoding in path');
    }
    if (/^\.{1,2}$/.test(dec) || /[/\\\0]/.test(dec) || /^(\.|%2e){1,2}$/i.test(dec)) throw Errors.BAD_PATH();
  }
  return raw;
}
