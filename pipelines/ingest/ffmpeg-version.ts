// Which ffmpeg is installed, and whether Vigil can use it. Vigil's command line needs ffmpeg 5.1 or newer
// (`-fps_mode`, new in 5.1; Ubuntu 22.04's 4.4 rejects it and every camera fails). Release builds say their
// version ("4.4.2-0ubuntu0.22.04.1", "n6.1", "7.1.1-1+b1", "6.0-static"); git builds ("N-112345-g1a2b3c4",
// "2024-03-04-git-e30369bc1c-full_build-www.gyan.dev") do not, so their libavformat version decides instead
// (5.1 shipped libavformat 59.27.100).
import { execFile } from 'node:child_process';

export const MIN_FFMPEG = Object.freeze({ major: 5, minor: 1, lavf: [59, 27] as const, text: '5.1' });

export interface FfmpegVersion {
  /** The version token as printed ("4.4.2-0ubuntu0.22.04.1", "N-112345-g1a2b3c4"). */
  text: string;
  /** major.minor.patch of a release build; null for git builds. */
  release: [number, number, number] | null;
  /** libavformat major.minor, when `-version` printed it. */
  lavf: [number, number] | null;
}

export type FfmpegSupport = { ok: true; detail: string } | { ok: false; reason: string; hint: string };

export const FFMPEG_UPGRADE_HINT =
  `Vigil needs ffmpeg ${MIN_FFMPEG.text} or newer (Debian 12 ships 5.1, Ubuntu 24.04 6.1). On Ubuntu 22.04 (4.4) install a ` +
  'newer build, e.g. a static one from https://johnvansickle.com/ffmpeg/, and set ingest.ffmpegPath and ingest.ffprobePath to it';

/** Parses `ffmpeg -version` output; null when it is not ffmpeg's. */
export function parseFfmpegVersion(output: string): FfmpegVersion | null {
  const text = /ffmpeg version (\S+)/.exec(output)?.[1];
  if (!text) return null;
  const m = /^n?(\d+)\.(\d+)(?:\.(\d+))?(?![\d-]*git)/.exec(text);
  const release: FfmpegVersion['release'] = m && !/^N-/.test(text) ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
  const l = /libavformat\s+(\d+)\.\s*(\d+)\.\s*\d+/.exec(output);
  return { text, release, lavf: l ? [Number(l[1]), Number(l[2])] : null };
}

/** Whether this ffmpeg is new enough, and if not what to do. */
export function ffmpegSupport(v: FfmpegVersion): FfmpegSupport {
  const old = (why: string): FfmpegSupport => ({ ok: false, reason: `ffmpeg ${v.text} is too old (${why}); Vigil needs ${MIN_FFMPEG.text} or newer`, hint: FFMPEG_UPGRADE_HINT });
  if (v.release) {
    const [major, minor] = v.release;
    if (major < MIN_FFMPEG.major || (major === MIN_FFMPEG.major && minor < MIN_FFMPEG.minor)) return old('no -fps_mode before 5.1');
    return { ok: true, detail: `ffmpeg ${v.text}` };
  }
  if (v.lavf) {
    const [maj, min] = v.lavf;
    const [needMaj, needMin] = MIN_FFMPEG.lavf;
    if (maj < needMaj || (maj === needMaj && min < needMin)) return old(`git build with libavformat ${maj}.${min}, older than 5.1's ${needMaj}.${needMin}`);
    return { ok: true, detail: `ffmpeg ${v.text} (git build, libavformat ${maj}.${min})` };
  }
  // A build that names neither: let it run; a too-old one shows as every camera failing on -fps_mode.
  return { ok: true, detail: `ffmpeg ${v.text} (version not recognised; ${MIN_FFMPEG.text}+ required)` };
}

export class FfmpegUnusableError extends Error {
  readonly code = 'VIGIL_FFMPEG_UNUSABLE';
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'FfmpegUnusableError';
  }
}

/** Runs `<bin> -version`; resolves with what it supports, or rejects with FfmpegUnusableError. */
export async function checkFfmpeg(bin: string): Promise<{ version: FfmpegVersion; detail: string }> {
  const out = await new Promise<string>((resolve, reject) => {
    execFile(bin, ['-hide_banner', '-version'], { timeout: 10_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  }).catch((err: NodeJS.ErrnoException) => {
    throw new FfmpegUnusableError(`"${bin}" not found or not runnable (${err.code ?? err.message})`, `install ffmpeg ${MIN_FFMPEG.text}+ (sudo apt-get install ffmpeg) or set ingest.ffmpegPath`);
  });
  const version = parseFfmpegVersion(out);
  if (!version) throw new FfmpegUnusableError(`"${bin}" does not look like ffmpeg (no "ffmpeg version" in its -version output)`, 'set ingest.ffmpegPath to an ffmpeg executable');
  const support = ffmpegSupport(version);
  if (!support.ok) throw new FfmpegUnusableError(support.reason, support.hint);
  return { version, detail: support.detail };
}
