// What a camera `source` string is, decided once from its scheme, and the plain-words reason when it is refused.
// Shared by config validation (refuse early, with the reason) and ingest (one input recipe per kind).
//
// Network sources are URLs with one of a few schemes; everything ffmpeg would otherwise read as a protocol
// prefix (`concat:`, `subfile:`, `pipe:`, `data:`, `file:`, `hls+http:`, `tcp://`, ...) is refused: those read
// local files, file descriptors or arbitrary sockets, and none of them is a camera.

export type SourceKind = 'rtsp' | 'mjpeg' | 'hls' | 'rtmp' | 'srt' | 'v4l2' | 'file' | 'testsrc';

export type SourceCheck = { ok: true; kind: SourceKind } | { ok: false; reason: string };

/** ffmpeg's protocols that are not network cameras (ffmpeg -protocols), named in the refusal. */
const PSEUDO_PROTOCOLS = new Set([
  'async', 'bluray', 'cache', 'concat', 'concatf', 'crypto', 'data', 'fd', 'ffrtmpcrypt', 'ffrtmphttp', 'file', 'ftp',
  'gopher', 'gophers', 'hls', 'httpproxy', 'icecast', 'ipfs', 'ipns', 'md5', 'mmsh', 'mmst', 'pipe', 'prompeg', 'rtp',
  'sctp', 'sftp', 'srtp', 'subfile', 'tcp', 'tee', 'tls', 'udp', 'udplite', 'unix', 'zmq', 'amqp', 'rist', 'libssh',
]);

export const ACCEPTED_SOURCES =
  'rtsp://host/path, http://host/video.mjpg (MJPEG), http://host/path.m3u8 (HLS), rtmp://host/app/stream, srt://host:port ' +
  '(or rtsps, https, rtmps), /dev/videoN, a video file path, or "testsrc"';

// ffmpeg reads `scheme:` as a protocol, and also `subfile,,opt,val,,:path` (options before the colon).
const SCHEME = /^([a-z][a-z0-9+.-]*)(?::|,.*:)/i;
const AUTHORITY = /^[a-z][a-z0-9+.-]*:\/\/([^\s/?#]*)/i;

export function checkSource(source: string): SourceCheck {
  if (source === 'testsrc') return { ok: true, kind: 'testsrc' };
  if (/^\/dev\/video\d+$/.test(source)) return { ok: true, kind: 'v4l2' };
  const scheme = SCHEME.exec(source)?.[1]?.toLowerCase();
  if (scheme === undefined) return { ok: true, kind: 'file' };
  const kind = networkKind(scheme, source);
  if (!kind) return { ok: false, reason: refusal(scheme) };
  if (!hostOf(source) || /\s/.test(source)) return { ok: false, reason: `"${scheme}" URL without a host (or with spaces): expected ${scheme}://host/...` };
  return { ok: true, kind };
}

/** The kind of an already validated source; unknown schemes read as files here (validation refused them). */
export function sourceKindOf(source: string): SourceKind {
  const c = checkSource(source);
  return c.ok ? c.kind : 'file';
}

function networkKind(scheme: string, source: string): SourceKind | null {
  switch (scheme) {
    case 'rtsp':
    case 'rtsps':
      return 'rtsp';
    case 'http':
    case 'https':
      return /\.m3u8$/i.test(urlPath(source)) ? 'hls' : 'mjpeg';
    case 'rtmp':
    case 'rtmps':
      return 'rtmp';
    case 'srt':
      return 'srt';
    default:
      return null;
  }
}

/** Host (and port) of a URL: the authority after its userinfo, which ends at the last "@". */
function hostOf(source: string): string {
  return AUTHORITY.exec(source)?.[1]?.split('@').pop() ?? '';
}

/** Path of a URL (no query, no fragment). */
function urlPath(source: string): string {
  const afterHost = source.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '');
  return afterHost.split(/[?#]/)[0] ?? '';
}

function refusal(scheme: string): string {
  const what = PSEUDO_PROTOCOLS.has(scheme) || scheme.includes('+')
    ? `"${scheme}:" is an ffmpeg protocol for files, pipes or raw sockets, not a camera, and is never accepted as a source`
    : `"${scheme}:" sources are not supported`;
  return `${what}; use ${ACCEPTED_SOURCES} (a file whose name contains ":" can be given as ./name)`;
}
