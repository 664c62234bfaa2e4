// Human reasons for a camera being offline, from how ffmpeg ended and what it printed. ffmpeg exits 0 when a
// camera closes the stream or times out, so the exit code alone says little; stderr says what happened.

const PATTERNS: [RegExp, string][] = [
  [/Connection refused/i, 'connection refused'],
  [/Connection timed out|timed out/i, 'camera stopped sending (timed out)'],
  [/401 Unauthorized/i, 'authentication failed (401)'],
  [/403 Forbidden/i, 'access denied (403)'],
  [/404 Not Found/i, 'stream not found (404)'],
  [/No route to host|Network is unreachable/i, 'camera unreachable'],
  [/Name or service not known|Temporary failure in name resolution|Failed to resolve/i, 'host name not found'],
  [/No such file or directory/i, 'source not found'],
  [/Permission denied/i, 'permission denied'],
  [/Device or resource busy/i, 'device busy'],
  [/Invalid data found when processing input/i, 'invalid data from source'],
];

export interface ExitFacts {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Whether this run produced at least one frame. */
  hadFrame: boolean;
  /** Recent non-showinfo stderr lines of the run, credentials already scrubbed. */
  stderr: readonly string[];
}

export function exitReason(f: ExitFacts): string {
  const text = f.stderr.join('\n');
  const known = PATTERNS.find(([re]) => re.test(text))?.[1];
  let reason: string;
  if (known) reason = known;
  else if (f.code === 0) reason = 'camera closed the stream';
  else if (f.signal) reason = `ffmpeg killed by ${f.signal}`;
  else reason = `ffmpeg exited with code ${f.code}` + (lastError(f.stderr) ? `: ${lastError(f.stderr)}` : '');
  return f.hadFrame ? reason : `died before first frame: ${reason}`;
}

/** The last line that looks like an error, trimmed of ffmpeg's "[component @ 0x...]" prefix. */
function lastError(lines: readonly string[]): string | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!.replace(/^\[[^\]]+\]\s*/, '').trim();
    if (l && !/^(Stream mapping|Press \[q\]|frame=|video:|Output #|Input #|\s)/.test(l)) return l.slice(0, 200);
  }
  return null;
}

/** A bounded tail of lines (Frigate's LogPipe idea: keep the last ~100, print them only on failure). */
export class LineTail {
  #lines: string[] = [];
  constructor(private readonly max = 100) {}
  push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.max) this.#lines.splice(0, this.#lines.length - this.max);
  }
  lines(): string[] {
    return [...this.#lines];
  }
}
