// Test support for the store: a real SQLite store opened lazily, for helpers that build a supervisor
// synchronously. The database lives in the test's data folder, like Vigil's own.
import type { RecordingIndex } from '../../pipelines/ingest/recording-index.ts';
import { openSqliteStore, storeFileIn, type Store } from '../../pipelines/store/index.ts';

/** A RecordingIndex over `<dataDir>/vigil.sqlite`, opened on first use; `close()` closes it if it was opened. */
export function lazyRecordingIndex(dataDir: string): RecordingIndex & { close(): Promise<void> } {
  let opened: Promise<Store> | null = null;
  const store = () => (opened ??= openSqliteStore({ file: storeFileIn(dataDir) }));
  return {
    add: async (c, s) => (await store()).recordings.add(c, s),
    addMany: async (c, s) => (await store()).recordings.addMany(c, s),
    list: async (c, r) => (await store()).recordings.list(c, r),
    seqs: async (c) => (await store()).recordings.seqs(c),
    lastSeq: async (c) => (await store()).recordings.lastSeq(c),
    takeExpired: async (c, b) => (await store()).recordings.takeExpired(c, b),
    remove: async (c, s) => (await store()).recordings.remove(c, s),
    close: async () => {
      if (opened) await (await opened).close();
    },
  };
}
