// Cutting an MP4 clip out of recorded MPEG-TS segments with ffmpeg: the concat demuxer over whole segments (each
// starts on a keyframe) and stream copy, so a clip costs a file copy, not an encode; `+faststart` puts the index
// first so a browser plays it while downloading. With boxes burned in, only the video is re-encoded, with one
// drawbox per stored box, shown from its frame until the rule's next evaluation.
import { writeFile, rm, rename, stat } from 'node:fs/promises';
import { spawnChild } from '../../pipelines/ingest/child.ts';

export interface ClipSegment {
  path: string;
  /** Segment start (ms, its pdt) and length (s). */
  pdt: number;
  duration: number;
}

/** A box shown on output time [from, to) seconds, in fractions of the picture (0..1). */
export interface TimedBox {
  from: number;
  to: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface CutOptions {
  ffmpeg: string;
  segments: readonly ClipSegment[];
  /** Output MP4; written as `<out>.part` and renamed when complete. */
  out: string;
  boxes?: readonly TimedBox[];
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

/** Writes the clip; resolves with its size and length, rejects with ffmpeg's last words. */
export async function cutClip(o: CutOptions): Promise<{ bytes: number; duration: number }> {
  const total = o.segments.reduce((n, s) => n + s.duration, 0);
  const list = `${o.out}.txt`;
  const part = `${o.out}.part`;
  // The concat demuxer's quoting: a single quote inside a quoted path is written '\''.
  await writeFile(list, 'ffconcat version 1.0\n' + o.segments.map((s) => `file '${s.path.replaceAll("'", "'\\''")}'\nduration ${s.duration.toFixed(6)}\n`).join(''));
  const script = `${o.out}.filter`;
  // One drawbox per box: an hour of evaluations outgrows a command-line argument (128 KiB), so the chain goes in a file.
  if (o.boxes?.length) await writeFile(script, drawboxes(o.boxes));
  const video = o.boxes?.length ? ['-filter_script:v', script, '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p'] : ['-c:v', 'copy'];
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', list, '-map', '0:v:0', '-map', '0:a:0?', ...video, '-c:a', 'copy', '-movflags', '+faststart', '-progress', 'pipe:1', '-nostats', '-f', 'mp4', part];
  try {
    const seconds = await run(o.ffmpeg, args, total, o.onProgress, o.signal);
    await rename(part, o.out);
    return { bytes: (await stat(o.out)).size, duration: seconds || total };
  } catch (err) {
    await rm(part, { force: true });
    throw err;
  } finally {
    await rm(list, { force: true });
    await rm(script, { force: true });
  }
}

/** Maps a pdt to output seconds: segments play back to back, gaps between them vanish. */
export function clipTime(segments: readonly ClipSegment[], pdt: number): number {
  let t = 0;
  for (const s of segments) {
    if (pdt < s.pdt + s.duration * 1000) return t + Math.max(0, (pdt - s.pdt) / 1000);
    t += s.duration;
  }
  return t;
}

function drawboxes(boxes: readonly TimedBox[]): string {
  const f = (n: number) => Math.max(0, Math.min(1, n)).toFixed(5);
  return boxes
    .map((b) => `drawbox=x=iw*${f(b.x1)}:y=ih*${f(b.y1)}:w=iw*${f(b.x2 - b.x1)}:h=ih*${f(b.y2 - b.y1)}:color=red@1:t=4:enable='between(t,${b.from.toFixed(3)},${b.to.toFixed(3)})'`)
    .join(',');
}

function run(ffmpeg: string, args: string[], total: number, onProgress: CutOptions['onProgress'], signal?: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    let seconds = 0;
    let failed: Error | null = null;
    const child = spawnChild(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] }, (err) => (failed ??= err));
    const abort = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', abort, { once: true });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      for (const m of chunk.matchAll(/out_time_us=(\d+)/g)) {
        seconds = Number(m[1]) / 1e6;
        if (total > 0) onProgress?.(Math.min(0.99, seconds / total));
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', abort);
      if (signal?.aborted) return reject(new Error('cancelled'));
      if (failed) return reject(new Error(`could not run ${ffmpeg}: ${failed.message}; check ffmpegPath`));
      if (code === 0) return resolve(seconds);
      reject(new Error(`ffmpeg failed (${code ?? sig}): ${stderr.trim().split('\n').slice(-3).join(' ') || 'no message'}`));
    });
  });
}
