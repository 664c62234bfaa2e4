// `vigil parse --format F --sent WxH --source WxH`: a raw model answer on stdin -> boxes and points in
// source pixels on stdout. Model text never fails the command (unreadable answers give empty lists);
// bad flags exit 2 with the reason.
import { parseAnswer } from '../../pipelines/vlm/parse.ts';
import { FAMILY_NAMES, isModelFamily } from '../../pipelines/vlm/families.ts';
import type { Size } from '../../pipelines/vlm/image.ts';

export interface ParseOptions {
  format: string;
  sent: string;
  source: string;
}

/** `1280x720` -> size; throws RangeError naming the flag. */
export function parseSizeFlag(flag: string, value: string): Size {
  const m = /^\s*(\d{1,6})\s*[xX]\s*(\d{1,6})\s*$/.exec(value);
  const width = m ? Number(m[1]) : 0;
  const height = m ? Number(m[2]) : 0;
  if (!(width > 0 && height > 0)) throw new RangeError(`${flag} must be WIDTHxHEIGHT with positive integers, e.g. 1280x720; got "${value}"`);
  return { width, height };
}

export async function run(opts: ParseOptions): Promise<void> {
  let sent: Size;
  let source: Size;
  try {
    if (!isModelFamily(opts.format)) throw new RangeError(`--format must be one of ${FAMILY_NAMES.join(', ')}; got "${opts.format}"`);
    sent = parseSizeFlag('--sent', opts.sent);
    source = parseSizeFlag('--source', opts.source);
  } catch (err) {
    console.error(`vigil parse: ${(err as Error).message}`);
    process.exitCode = 2;
    return;
  }
  const raw = await readStdin();
  const { boxes, points } = parseAnswer(raw, { family: opts.format, sent, source });
  process.stdout.write(JSON.stringify({ boxes, points }, null, 2) + '\n');
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) console.error('vigil parse: reading the model answer from stdin (end with Ctrl-D)');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
