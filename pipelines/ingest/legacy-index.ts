// The recording index before the store: `<recordings>/<camera>/index.jsonl`, one JSON line per segment.
// Imported once into the store at the camera's first start, in one transaction, then renamed aside; a crash
// before the rename imports it again, which adds nothing twice (rows are keyed by camera and seq).
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordedSegment, RecordingIndex } from './recording-index.ts';
import { segmentSeq } from './paths.ts';

export const LEGACY_INDEX = 'index.jsonl';
/** What an imported index is renamed to (kept for the operator; Vigil never reads it again). */
export const LEGACY_INDEX_IMPORTED = 'index.jsonl.imported';

export interface LegacyImport {
  /** Lines that parsed into a segment. */
  lines: number;
  /** Rows the store did not have yet. */
  added: number;
  /** Lines that could not be read (a torn last line after a crash) and were left out. */
  unreadable: number;
}

/** Imports `index.jsonl` of a camera when there is one; null when there is none. */
export async function importLegacyIndex(recordingDir: string, camera: string, index: RecordingIndex): Promise<LegacyImport | null> {
  const path = join(recordingDir, LEGACY_INDEX);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const { segments, unreadable } = parseLegacyIndex(text);
  const added = await index.addMany(camera, segments);
  await rename(path, join(recordingDir, LEGACY_INDEX_IMPORTED));
  return { lines: segments.length, added, unreadable };
}

export function parseLegacyIndex(text: string): { segments: RecordedSegment[]; unreadable: number } {
  const segments: RecordedSegment[] = [];
  let unreadable = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const seg = toSegment(line);
    if (seg) segments.push(seg);
    else unreadable++;
  }
  return { segments, unreadable };
}

function toSegment(line: string): RecordedSegment | null {
  let v: Partial<Record<keyof RecordedSegment, unknown>>;
  try {
    v = JSON.parse(line) as typeof v;
  } catch {
    return null;
  }
  const { seq, file, pdt, duration, bytes, run } = v ?? {};
  if (typeof file !== 'string' || segmentSeq(file) !== seq) return null;
  if (![pdt, duration, bytes, run].every((n) => typeof n === 'number' && Number.isFinite(n))) return null;
  return { seq: seq as number, file, pdt: pdt as number, duration: duration as number, bytes: bytes as number, run: run as number };
}
