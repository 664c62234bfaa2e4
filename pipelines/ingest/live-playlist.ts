// Publishes ffmpeg's playlist (FFMPEG_PLAYLIST) to players as LIVE_PLAYLIST with every PROGRAM-DATE-TIME moved onto
// the camera's clock (pdt.ts). Written to a temporary file and renamed, so a player never reads half a playlist.
import { watch } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePlaylist, readPlaylist, type MediaPlaylist } from './hls-playlist.ts';
import { FFMPEG_PLAYLIST, LIVE_PLAYLIST } from './paths.ts';

const PDT_TAG = '#EXT-X-PROGRAM-DATE-TIME:';

/** Moves every PROGRAM-DATE-TIME of a media playlist by `shiftMs` (written back in UTC, millisecond precision). */
export function shiftProgramDateTimes(text: string, shiftMs: number): string {
  return text
    .split('\n')
    .map((line) => {
      if (!line.startsWith(PDT_TAG)) return line;
      const ms = Date.parse(line.slice(PDT_TAG.length).trim().replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
      return Number.isNaN(ms) ? line : PDT_TAG + new Date(ms + shiftMs).toISOString();
    })
    .join('\n');
}

export class LivePlaylist {
  readonly #dir: string;
  #written: string | null = null;
  #finishing: Promise<unknown> = Promise.resolve();

  constructor(hlsDir: string) {
    this.#dir = hlsDir;
  }

  /** ffmpeg's playlist as it is now (null while it does not exist). */
  async source(): Promise<{ text: string; playlist: MediaPlaylist } | null> {
    try {
      const text = await readFile(join(this.#dir, FFMPEG_PLAYLIST), 'utf8');
      return { text, playlist: parsePlaylist(text) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /**
   * Calls `onChange` whenever ffmpeg replaces its playlist (it writes a temporary file and renames it), so players get
   * a new segment without waiting for the next poll. Returns the function that stops watching. Best effort: the
   * supervisor polls anyway.
   */
  watch(onChange: () => void): () => void {
    try {
      const w = watch(this.#dir, (_event, name) => {
        if (name === FFMPEG_PLAYLIST) onChange();
      });
      w.on('error', () => w.close());
      return () => w.close();
    } catch {
      return () => {};
    }
  }

  /** Writes the shifted playlist for players when it changed; returns it parsed (PDTs on the camera's clock). */
  async publish(sourceText: string, shiftMs: number): Promise<MediaPlaylist> {
    const text = shiftProgramDateTimes(sourceText, shiftMs);
    if (text !== this.#written) {
      const path = join(this.#dir, LIVE_PLAYLIST);
      await writeFile(`${path}.tmp`, text);
      await rename(`${path}.tmp`, path);
      this.#written = text;
    }
    return parsePlaylist(text);
  }

  /**
   * Publishes what ffmpeg wrote last in a run that ended (its final segments and EXT-X-ENDLIST, so players and probes
   * see the end instead of waiting for a live playlist that no longer changes). `shiftMs` null: never anchored,
   * nothing was published.
   */
  finish(shiftMs: number | null): void {
    if (shiftMs === null) return;
    this.#finishing = this.#finishing
      .then(() => this.source())
      .then((src) => src && this.publish(src.text, shiftMs))
      .catch(() => undefined);
  }

  /** Resolves when the last `finish()` is written. */
  async settled(): Promise<void> {
    await this.#finishing;
  }

  /**
   * The last state of an ended run (ffmpeg may have added segments after the last publish), shifted by that run's
   * `shiftMs`, or, when it was never anchored, whatever players last got (an earlier process's playlist included),
   * or ffmpeg's own.
   * Then removes both playlists: the next run starts fresh.
   */
  async retire(shiftMs: number | null): Promise<MediaPlaylist | null> {
    await this.#finishing;
    const src = await this.source();
    const published = await readPlaylist(join(this.#dir, LIVE_PLAYLIST));
    // Unanchored and never published (a crash before the first segment): ffmpeg's own PDTs beat losing segments.
    const last = src && shiftMs !== null ? parsePlaylist(shiftProgramDateTimes(src.text, shiftMs)) : (published ?? src?.playlist ?? null);
    await Promise.all([FFMPEG_PLAYLIST, LIVE_PLAYLIST].map((f) => rm(join(this.#dir, f), { force: true })));
    this.#written = null;
    return last;
  }
}
