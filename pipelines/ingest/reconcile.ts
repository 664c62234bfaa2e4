// Startup reconciliation of a camera's recordings: after a crash (kill -9, power cut) the recording index and the
// folders can disagree in the ways the keeper's write order allows, and only those: a row whose file is still in
// the HLS folder (crash between a sweep's row and its move), a `.partial` copy (crash inside a cross-mount move),
// a file without a row (crash between a prune's rows and its unlinks). Repairs them so index and folder agree.
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isPartialName, moveFile } from './move-file.ts';
import { segmentName, segmentSeq } from './paths.ts';
import type { RecordingIndex } from './recording-index.ts';

export interface ReconcileTarget {
  camera: string;
  hlsDir: string;
  recordingDir: string;
  index: RecordingIndex;
}

/** What reconciliation found and repaired. */
export interface Reconciliation {
  imported: number;
  /** Rows whose file was still in the HLS folder: moved now. */
  finished: number;
  /** Files in the recordings folder without a row (an interrupted prune): unlinked. */
  orphans: number;
  /** Rows whose file exists nowhere: removed. */
  lost: number;
}

/** The recordings folder cannot be read, or holds none of the indexed segments: a share not mounted, most likely. */
export class RecordingsUnavailableError extends Error {
  constructor(dir: string, rows: number, cause?: unknown) {
    super(
      `none of the ${rows} indexed recordings of this camera can be found in ${dir}` +
        (cause ? ` (${(cause as Error).message})` : '') +
        ': is the recordings share mounted? The index is left unchanged and recording resumes when the folder is back ' +
        '(if the files were deleted on purpose, remove the camera\'s rows from the store: see pipelines/store/README.md).',
      { cause },
    );
    this.name = 'RecordingsUnavailableError';
  }
}

export async function reconcileRecordings(t: ReconcileTarget): Promise<Omit<Reconciliation, 'imported'>> {
  const rows = new Set(await t.index.seqs(t.camera));
  const { present, strays, orphans } = classify(await listRecordings(t.recordingDir, rows.size), rows);
  const missing = [...rows].filter((seq) => !present.has(seq));
  const inHls = new Set<number>();
  for (const seq of missing) if (await exists(join(t.hlsDir, segmentName(seq)))) inHls.add(seq);
  // Every file gone at once is an unmounted share, not a crash: repairing would empty the index.
  if (rows.size && !present.size && !inHls.size) throw new RecordingsUnavailableError(t.recordingDir, rows.size);
  for (const name of strays) await rm(join(t.recordingDir, name), { force: true });
  for (const seq of inHls) {
    await mkdir(t.recordingDir, { recursive: true });
    await moveFile(join(t.hlsDir, segmentName(seq)), join(t.recordingDir, segmentName(seq)));
  }
  const lost = missing.filter((seq) => !inHls.has(seq));
  if (lost.length) await t.index.remove(t.camera, lost);
  return { finished: inHls.size, orphans, lost: lost.length };
}

async function listRecordings(dir: string, rows: number): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && rows === 0) return [];
    throw new RecordingsUnavailableError(dir, rows, err);
  }
}

/** Splits a folder listing: segments with a row, and strays to unlink (`.partial` copies, files without a row). */
function classify(names: readonly string[], rows: ReadonlySet<number>): { present: Set<number>; strays: string[]; orphans: number } {
  const present = new Set<number>();
  const strays: string[] = [];
  let orphans = 0;
  for (const name of names) {
    const seq = segmentSeq(name);
    if (isPartialName(name)) strays.push(name);
    else if (seq === null) continue;
    else if (rows.has(seq)) present.add(seq);
    else {
      strays.push(name);
      orphans++;
    }
  }
  return { present, strays, orphans };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}
