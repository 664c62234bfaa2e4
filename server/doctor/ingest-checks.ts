// Doctor checks owned by camera ingest: the ffmpeg version (5.1+ needed; see pipelines/ingest/ffmpeg-version.ts).
import { checkFfmpeg, FfmpegUnusableError } from '../../pipelines/ingest/ffmpeg-version.ts';
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
