// Frames of a synthetic camera scene as the analysis loop receives them: a still grey scene (desaturated SMPTE
// bars, so there are edges for the codec to smear) with temporal sensor noise, encoded to H.264 with B-frames and
// decoded back, then sampled as JPEGs. Optionally a coloured square appears, moves, stands still and leaves, on a
// timeline the caller gives. Used by the change-gate tests and benchmark; one ffmpeg pair per call.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ShapeSpan {
  /** Seconds of video the shape is visible: [from, to). */
  from: number;
  to: number;
  /** ffmpeg expressions of t (seconds) for the top-left corner, in pixels. */
  x: string;
  y: string;
}

export interface SceneOptions {
  width: number;
  height: number;
  seconds: number;
  /** JPEG frames sampled per second of video. */
  sampleFps: number;
  /** Side of the square in pixels (default 40) and its colour (default red). */
  shapeSize?: number;
  shapeColor?: string;
  spans?: ShapeSpan[];
  /** Temporal noise strength of the ffmpeg noise filter (default 10). */
  noise?: number;
  /** Frame rate of the encoded video (default 10); lower renders long scenes faster. */
  videoFps?: number;
}

export interface SceneFrame {
  /** ms since the scene started. */
  pdt: number;
  jpeg: Buffer;
}

export async function renderScene(o: SceneOptions): Promise<SceneFrame[]> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-scene-'));
  try {
    const video = join(dir, 'scene.mp4');
    await ffmpeg(['-f', 'lavfi', '-i', sceneGraph(o), '-t', String(o.seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '26', '-bf', '2', '-g', '50', '-pix_fmt', 'yuv420p', video]);
    await ffmpeg(['-i', video, '-vf', `fps=${o.sampleFps}`, '-c:v', 'mjpeg', '-q:v', '4', join(dir, 'f%05d.jpg')]);
    const names = (await readdir(dir)).filter((n) => n.endsWith('.jpg')).sort();
    return Promise.all(names.map(async (n, i) => ({ pdt: Math.round((i * 1000) / o.sampleFps), jpeg: await readFile(join(dir, n)) })));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One lavfi graph: noisy grey bars, with the square overlaid while any span is active. */
function sceneGraph(o: SceneOptions): string {
  const size = `${o.width}x${o.height}`;
  const fps = o.videoFps ?? 10;
  const bg = `smptehdbars=s=${size}:r=${fps},hue=s=0,noise=alls=${o.noise ?? 10}:allf=t+u`;
  const spans = o.spans ?? [];
  if (spans.length === 0) return bg;
  const side = o.shapeSize ?? 40;
  const active = (s: ShapeSpan) => `gte(t,${s.from})*lt(t,${s.to})`;
  // Outside every span the position is irrelevant (the overlay is disabled); pick the active span's expression.
  const pick = (axis: 'x' | 'y') => spans.reduceRight((rest, s) => `if(${active(s)},${s[axis]},${rest})`, '0');
  const enable = spans.map(active).join('+');
  return `${bg}[bg];color=c=${o.shapeColor ?? 'red'}:s=${side}x${side}:r=${fps}[sq];[bg][sq]overlay=x='${pick('x')}':y='${pick('y')}':enable='${enable}':shortest=1`;
}

function ffmpeg(args: string[]): Promise<void> {
  return new Promise((ok, fail) => {
    const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d));
    p.on('error', fail);
    p.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`ffmpeg exited ${code}: ${err.slice(-2000)}`))));
  });
}
