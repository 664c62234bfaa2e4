// Table types of the store as the query builder sees them (Kysely). One interface per table; columns use
// types both SQLite and PostgreSQL hold (text, bigint, integer, double precision), see migrations.ts.
import type { RecordedSegment } from '../ingest/recording-index.ts';

/** A row of the recording index is ingest's RecordedSegment, keyed by camera. */
export interface RecordingsTable extends RecordedSegment {
  camera: string;
}

/** Per-camera running totals, kept in the same transaction as every change to `recordings`. */
export interface RecordingTotalsTable {
  camera: string;
  segments: number;
  bytes: number;
}

export interface SchemaVersionTable {
  version: number;
}

export interface StoreSchema {
  recordings: RecordingsTable;
  recording_totals: RecordingTotalsTable;
  schema_version: SchemaVersionTable;
}
