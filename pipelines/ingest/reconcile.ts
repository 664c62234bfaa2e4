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

export async function reconcileRecordings(t: ReconcileTarget): Promise<Omit<Reconciliation, 'imported'>> {
  const rows = new Set(await t.index.seqs(t.camera));
  const { present, orphans } = await removeStrays(t.recordingDir, rows);
  const missing = [...rows].filter((seq) => !present.has(seq));
  const { finished, lost } = await finishMoves(t, missing);
  if (lost.length) await t.index.remove(t.camera, lost);
  return { finished, orphans, lost: lost.length };
}

/** Unlinks `.partial` copies and segment files without a row; returns the segments that have both. */
async function removeStrays(recordingDir: string, rows: ReadonlySet<number>): Promise<{ present: Set<number>; orphans: number }> {
  const present = new Set<number>();
  let orphans = 0;
  for (const name of await listDir(recordingDir)) {
    const seq = segmentSeq(name);
    if (isPartialName(name)) await rm(join(recordingDir, name), { force: true });
    else if (seq === null) continue;
    else if (rows.has(seq)) present.add(seq);
    else {
      await rm(join(recordingDir, name), { force: true });
      orphans++;
    }
  }
  return { present, orphans };
}

/** Moves the files of rows whose segment is still in the HLS folder; returns the rows whose file is nowhere. */
async function finishMoves(t: ReconcileTarget, seqs: readonly number[]): Promise<{ finished: number; lost: number[] }> {
  let finished = 0;
  const lost: number[] = [];
  for (const seq of seqs) {
    const src = join(t.hlsDir, segmentName(seq));
    if (!(await exists(src))) {
      lost.push(seq);
      continue;
    }
    await mkdir(t.recordingDir, { recursive: true });
    await moveFile(src, join(t.recordingDir, segmentName(seq)));
    finished++;
  }
  return { finished, lost };
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
