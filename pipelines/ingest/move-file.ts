// Moving a segment into the recordings folder without ever leaving a half file under a real name. Same mount:
// one rename. Another mount (EXDEV: recordings on a NAS): copy to a hidden temp name, fsync it, rename it into
// place, fsync the folder, and only then unlink the source. A crash at any point leaves the source in place, and
// at most a `.partial` file that startup reconciliation removes.
import { copyFile, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Points between the durable steps of a cross-mount move (test hooks pause or die here). */
export type MoveStep = 'copied' | 'placed';

export async function moveFile(src: string, dst: string, onStep?: (step: MoveStep) => void | Promise<void>): Promise<void> {
  try {
    await rename(src, dst);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
  }
  const tmp = partialPath(dst);
  try {
    await copyFile(src, tmp);
    await syncPath(tmp, 'r+');
    await onStep?.('copied');
    await rename(tmp, dst);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncPath(dirname(dst), 'r');
  await onStep?.('placed');
  await rm(src, { force: true });
}

/** The temp name a cross-mount copy is written under before it is renamed into place. */
export function partialPath(dst: string): string {
  return join(dirname(dst), `.${basename(dst)}.partial`);
}

export function isPartialName(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.partial');
}

async function syncPath(path: string, flags: 'r' | 'r+'): Promise<void> {
  const fh = await open(path, flags);
  try {
    await fh.sync();
  } catch (err) {
    // Some filesystems cannot fsync a folder; the file itself was synced before the rename.
    if (flags === 'r+') throw err;
  } finally {
    await fh.close();
  }
}
