// Doctor checks owned by camera ingest: the ffmpeg version (5.1+ needed; see pipelines/ingest/ffmpeg-version.ts),
// and whether the cameras that must be transcoded (H.265 and other non-H.264 sources: Chromium plays only H.264)
// fit the machine's cores. Each camera is probed once, briefly, the way ingest would open it.
import { availableParallelism } from 'node:os';
import type { CameraConfig, IngestConfig } from '../../config/schema.ts';
import { inputArgs, needsEncode, probeInputArgs, sourceKind, TESTSRC, type SourceInfo } from '../../pipelines/ingest/args.ts';
import { checkFfmpeg, FfmpegUnusableError } from '../../pipelines/ingest/ffmpeg-version.ts';
import { probeSource } from '../../pipelines/ingest/probe.ts';
import { codecName, transcodeCores } from '../../pipelines/ingest/transcode.ts';
import type { Check } from './checks.ts';

export const ffmpegVersionCheck: Check = {
  name: 'ffmpeg',
  required: true,
  async run(ctx) {
    const bin = ctx.config.ingest.ffmpegPath;
    try {
      const { detail } = await checkFfmpeg(bin);
      return { ok: true, detail: `${detail} (${bin})` };
    } catch (err) {
      if (!(err instanceof FfmpegUnusableError)) throw err;
      return { ok: false, detail: err.message, fix: err.hint };
    }
  },
};

/** Share of the cores transcoding may take: the rest decodes sampled frames, serves video and runs the model. */
export const TRANSCODE_CORE_SHARE = 0.75;
const PROBE_CONCURRENCY = 4;

type Probed = { camera: CameraConfig; info: SourceInfo } | { camera: CameraConfig; error: string };

async function probeCamera(camera: CameraConfig, ingest: IngestConfig): Promise<Probed> {
  if (!camera.inputArgs && sourceKind(camera.source) === 'testsrc') {
    return { camera, info: { codec: null, width: TESTSRC.width, height: TESTSRC.height, fps: TESTSRC.fps, gopSeconds: null } };
  }
  try {
    const info = await probeSource({
      ffprobePath: ingest.ffprobePath,
      input: probeInputArgs(inputArgs(camera, ingest)),
      windowSeconds: 1,
      timeoutMs: (2 + 2 * ingest.rtspTimeout) * 1000,
    });
    return { camera, info };
  } catch (err) {
    return { camera, error: (err as Error).message };
  }
}

async function probeAll(cameras: CameraConfig[], ingest: IngestConfig): Promise<Probed[]> {
  const out: Probed[] = [];
  for (let i = 0; i < cameras.length; i += PROBE_CONCURRENCY) {
    out.push(...(await Promise.all(cameras.slice(i, i + PROBE_CONCURRENCY).map((c) => probeCamera(c, ingest)))));
  }
  return out;
}

/** Warns when the estimated CPU of the transcoded cameras exceeds TRANSCODE_CORE_SHARE of `cores`. */
export function transcodeCheck(cores: number = availableParallelism()): Check {
  return {
    name: 'transcoded cameras',
    required: false,
    async run(ctx) {
      const cameras = ctx.config.cameras.filter((c) => c.enabled);
      if (cameras.length === 0) return { ok: true, detail: 'no cameras configured' };
      const probed = await probeAll(cameras, ctx.config.ingest);
      const transcoded = probed.flatMap((p) => ('info' in p && needsEncode(p.camera, p.info) ? [{ id: p.camera.id, info: p.info, cores: transcodeCores(p.info) }] : []));
      const unknown = probed.flatMap((p) => ('error' in p ? [`${p.camera.id} (${p.error})`] : []));
      const total = transcoded.reduce((sum, t) => sum + t.cores, 0);
      const list = transcoded.map((t) => `${t.id}: ${codecName(t.info.codec)} ${t.info.width}x${t.info.height} ~${Math.round(t.cores * 100)}%`).join(', ');
      const detail =
        `${transcoded.length} of ${cameras.length} cameras transcoded to H.264${list ? ` (${list})` : ''}, about ${total.toFixed(2)} of ${cores} cores` +
        (unknown.length ? `; not probed: ${unknown.join(', ')}` : '');
      if (total <= TRANSCODE_CORE_SHARE * cores) return { ok: true, detail };
      return {
        ok: false,
        detail: `${detail}: more than ${Math.round(TRANSCODE_CORE_SHARE * 100)}% of the cores, video will stall or lag`,
        fix: 'set the H.265 cameras (or their sub-streams) to H.264 so they are copied (about 30x cheaper), lower their resolution or frame rate, or give Vigil more cores',
      };
    },
  };
}
