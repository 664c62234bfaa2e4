// Why a camera is offline, from how ffmpeg (or the probe) ended and what it printed: what happened and what to do.
// ffmpeg exits 0 when a camera closes the stream or times out, so the exit code alone says little; stderr says what
// happened. One ffmpeg message misleads: a camera that accepts the TCP connection and never answers the RTSP request
// ends with "Invalid data found when processing input" once the socket timeout passes, so that message, arriving
// after about the timeout, means "did not answer", not "sent bad data".

/** What kind of failure ended a run; the restart policy treats `auth` specially (accounts lock after 5-7 failures). */
export type FailureKind =
  | 'refused' | 'no-answer' | 'auth' | 'forbidden' | 'not-found' | 'unreachable' | 'dns' | 'timeout' | 'closed'
  | 'invalid-data' | 'no-file' | 'permission' | 'busy' | 'killed' | 'exited' | 'stalled' | 'restart' | 'spawn';

export interface Failure {
  kind: FailureKind;
  /** What happened, e.g. "authentication failed (401)". */
  what: string;
  /** What the operator should do, e.g. "check the user and password". */
  advice: string;
}

/** The reason shown to operators: what happened, then what to do. */
export const reasonOf = (f: Failure): string => (f.advice ? `${f.what}: ${f.advice}` : f.what);

export const failure = (kind: FailureKind, what: string, advice = ''): Failure => ({ kind, what, advice });

const PATTERNS: [RegExp, (f: ExitFacts) => Failure][] = [
  [/spawn \S+ ENOENT/, (f) => failure('spawn', `program not found (${/spawn (\S+) ENOENT/.exec(f.stderr.join('\n'))![1]})`, 'install ffmpeg 5.1 or newer, or set ingest.ffmpegPath / ingest.ffprobePath')],
  [/Connection refused/i, () => failure('refused', 'connection refused', 'nothing listens on that port: check the camera is on and the port in the URL (RTSP is usually 554)')],
  [/401 Unauthorized/i, () => failure('auth', 'authentication failed (401)', 'check the user and password')],
  [/403 Forbidden/i, () => failure('forbidden', 'access denied (403)', "this user may not open the stream: check the user's rights in the camera")],
  [/404 Not Found/i, () => failure('not-found', 'stream not found (404)', "check the path in the URL (the camera's manual lists its stream paths)")],
  [/No route to host|Network is unreachable|Host is unreachable/i, () => failure('unreachable', 'camera unreachable (no route to host)', 'check the address and the network')],
  [/Name or service not known|Temporary failure in name resolution|Failed to resolve|nodename nor servname/i, () => failure('dns', 'host name not found', 'check the host name in the URL')],
  [/Connection timed out|timed out/i, (f) =>
    f.hadFrame
      ? failure('timeout', 'camera stopped sending (timed out)', 'reconnecting; if it repeats, check the camera and the network')
      : failure('no-answer', 'camera connected but sent no video (timed out)', 'check the URL is the video stream and the camera is not overloaded')],
  [/No such file or directory/i, () => failure('no-file', 'source not found (no such file or device)', 'check the path')],
  [/Permission denied/i, () => failure('permission', 'permission denied', 'check that Vigil may read the source')],
  [/Device or resource busy/i, () => failure('busy', 'device busy', 'another program uses the camera: close it')],
  [/Invalid data found when processing input/i, (f) => (answeredLate(f) ? noAnswer(f) : invalidData())],
  // ProbeError messages (probe.ts): the probe ran out of time, or the source has no video.
  [/^probe timed out$/m, () => failure('no-answer', 'camera sent no video within the probe time (probe timed out)', 'check the URL is the video stream and the camera is not overloaded')],
  [/^no video stream found$/m, () => failure('invalid-data', 'the source has no video stream', 'check the URL points to video (not an audio-only or metadata stream)')],
];

export interface ExitFacts {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Whether this run produced at least one frame. */
  hadFrame: boolean;
  /** Recent non-showinfo stderr lines of the run, credentials already scrubbed. */
  stderr: readonly string[];
  /** How long the attempt (probe or run) took, ms. */
  elapsedMs?: number;
  /** The source's socket timeout (RTSP `-timeout`), ms: a failure after about this long means the camera was silent. */
  answerTimeoutMs?: number;
}

export function classifyExit(f: ExitFacts): Failure {
  const text = f.stderr.join('\n');
  const known = PATTERNS.find(([re]) => re.test(text));
  if (known) return known[1](f);
  if (f.code === 0) {
    return f.hadFrame
      ? failure('closed', 'camera closed the stream', 'reconnecting; if it repeats, check the camera (client limit, reboots)')
      : failure('closed', 'camera closed the stream before the first picture', "check the stream path and the camera's client limit");
  }
  if (f.signal) return failure('killed', `ffmpeg killed by ${f.signal}`, 'check the system log (out of memory?)');
  const last = lastError(f.stderr);
  return failure('exited', `ffmpeg exited with code ${f.code}` + (last ? `: ${last}` : ''), 'see the camera log for the ffmpeg output');
}

/** The reason as one line (what happened: what to do). */
export function exitReason(f: ExitFacts): string {
  return reasonOf(classifyExit(f));
}

function answeredLate(f: ExitFacts): boolean {
  return !f.hadFrame && f.elapsedMs !== undefined && f.answerTimeoutMs !== undefined && f.elapsedMs >= 0.8 * f.answerTimeoutMs;
}

function noAnswer(f: ExitFacts): Failure {
  const s = Math.round((f.answerTimeoutMs ?? 0) / 100) / 10;
  return failure('no-answer', `camera accepted the connection but did not answer within ${s} s`,
    "check that the port is the camera's RTSP port (usually 554) and that the camera is not overloaded");
}

function invalidData(): Failure {
  return failure('invalid-data', 'the source sent data ffmpeg cannot read as video (invalid data)', "check the URL points to the camera's video stream");
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
