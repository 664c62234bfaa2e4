// Events, their evaluations and evidence files over any Kysely database: the rules loop writes through the
// EventSink port (each call one transaction), the API reads and reviews through the queries. Files are written
// and fsynced before the row that points at them commits and removed only after the row is gone, so a crash
// leaves at most a folder without a row (removed by `sweep()` at the next start), never a row without its files.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { EventsConfig } from '../../config/rule.ts';
import type { Logger } from '../log.ts';
import type { CloseReason, Evaluation, EventRecord, EventSink, EventUpdate, NewEvent, Verdict } from '../rules/types.ts';
import { newEventId, newEventRow, toEventRecord } from './event-rows.ts';
import { countEvents, eventDays, evaluationsBetween, getEvent, listEvents, type EventCounts, type EventDay, type EventQuery } from './events-query.ts';
import { retain, sweep, type RetentionResult, type SweepResult } from './events-upkeep.ts';
import { closeAllOpenRows, closeEventRow, insertEvaluations, updateEventRow } from './events-write.ts';
import { EvidenceFiles, isEventId, newEvidenceTag, type EvidenceKind } from './evidence-files.ts';
import { enqueueOpened, type NotifyHooks } from './outbox-write.ts';
import type { StoreSchema } from './schema.ts';

export type { EventQuery, EventDay, EventCounts } from './events-query.ts';
export type { RetentionResult, SweepResult } from './events-upkeep.ts';
export { EventStoreError } from './event-rows.ts';

export interface ReviewPatch {
  reviewed?: boolean;
  verdict?: Verdict | null;
  note?: string | null;
  keep?: boolean;
}

/** `<dataDir>/events`: one folder per event. */
export function eventsDirIn(dataDir: string): string {
  return join(dataDir, 'events');
}

export class KyselyEventStore implements EventSink {
  readonly files: EvidenceFiles;
  /** Events whose files are being written or removed: the sweep leaves their folders alone. */
  readonly #busy = new Map<string, number>();
  /** Notifications: with hooks, every event change writes its outbox messages in its own transaction. */
  #notify: NotifyHooks | null = null;

  constructor(
    private readonly db: Kysely<StoreSchema>,
    dataDir: string,
    private readonly log?: Logger,
  ) {
    this.files = new EvidenceFiles(eventsDirIn(dataDir));
  }

  /** Turns notifications on (hooks) or off (null); changes committed from now on write their messages. */
  setNotify(hooks: NotifyHooks | null): void {
    this.#notify = hooks;
  }

  open(e: NewEvent): Promise<EventRecord> {
    const id = newEventId(e.startPdt);
    const tag = newEvidenceTag();
    return this.#whileBusy(id, async () => {
      const now = Date.now();
      const row = newEventRow(id, e, tag, now);
      let queued = 0;
      try {
        await this.files.write(id, e.evidence);
        await this.db.transaction().execute(async (trx) => {
          await trx.insertInto('events').values(row).execute();
          await insertEvaluations(
            trx,
            e.evaluations.map((evaluation) => ({ evaluation, eventId: id })),
          );
          queued = await enqueueOpened(trx, this.#notify, e.rule.rule, toEventRecord(row), now);
        });
      } catch (err) {
        await this.files.remove(id).catch(() => undefined); // a folder left here is the sweep's
        throw err;
      }
      this.#queued(queued);
      return toEventRecord(row);
    });
  }

  update(id: string, change: EventUpdate): Promise<EventRecord> {
    return this.#whileBusy(id, async () => {
      const tag = change.evidence ? newEvidenceTag() : null;
      if (tag && change.evidence) await this.files.stage(id, change.evidence, tag);
      let row;
      try {
        const done = await this.db.transaction().execute((trx) => updateEventRow(trx, id, change, tag, Date.now()));
        row = done.row;
        this.#queued(done.queued);
      } catch (err) {
        if (tag) await this.files.discard(id, tag).catch(() => undefined);
        throw err;
      }
      if (tag) {
        // The row holds the new tag: a failure from here on is finished by the next start's sweep.
        await this.files.promote(id, tag).catch((err: unknown) => this.log?.warn({ event: id, err: String(err) }, 'event evidence not renamed into place; the next start finishes it'));
      }
      return toEventRecord(row);
    });
  }

  async close(id: string, endPdt: number, reason: CloseReason, framePdt = endPdt): Promise<EventRecord> {
    const done = await this.db.transaction().execute((trx) => closeEventRow(trx, id, endPdt, reason, framePdt, Date.now()));
    this.#queued(done.queued);
    return toEventRecord(done.row);
  }

  async addEvaluations(evals: ReadonlyArray<{ evaluation: Evaluation; eventId: string | null }>): Promise<void> {
    if (!evals.length) return;
    await this.db.transaction().execute((trx) => insertEvaluations(trx, evals));
  }

  async closeAllOpen(reason: CloseReason): Promise<EventRecord[]> {
    const done = await this.db.transaction().execute((trx) => closeAllOpenRows(trx, reason, Date.now()));
    this.#queued(done.queued);
    return done.rows.map(toEventRecord);
  }

  /** Newest first (startPdt desc, id desc); `next` is the cursor of the following page, null on the last. */
  list(q: EventQuery): Promise<{ events: EventRecord[]; next: string | null }> {
    return listEvents(this.db, q);
  }

  /** How many events match, and how many of them are not reviewed (filters as `list`). */
  counts(q: Omit<EventQuery, 'limit' | 'cursor'>): Promise<EventCounts> {
    return countEvents(this.db, q);
  }

  /** Days (in time zone `tz`) with matching events, for the day picker. RangeError for an unknown time zone. */
  days(q: Omit<EventQuery, 'limit' | 'cursor'>, tz?: string): Promise<EventDay[]> {
    return eventDays(this.db, q, tz);
  }

  get(id: string): Promise<(EventRecord & { evaluations: Evaluation[] }) | null> {
    return getEvent(this.db, id);
  }

  /** Sets the review fields given (others unchanged); null when the event does not exist. */
  async review(id: string, patch: ReviewPatch): Promise<EventRecord | null> {
    return this.db.transaction().execute(async (trx) => {
      const set: { reviewed?: number; verdict?: string | null; note?: string | null; keep?: number } = {};
      if (patch.reviewed !== undefined) set.reviewed = patch.reviewed ? 1 : 0;
      if (patch.verdict !== undefined) set.verdict = patch.verdict;
      if (patch.note !== undefined) set.note = patch.note;
      if (patch.keep !== undefined) set.keep = patch.keep ? 1 : 0;
      if (Object.keys(set).length) await trx.updateTable('events').set(set).where('id', '=', id).execute();
      const row = await trx.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toEventRecord(row) : null;
    });
  }

  /** Deletes the event and its evaluations (one transaction), then its files. False when there was none. */
  delete(id: string): Promise<boolean> {
    if (!isEventId(id)) return Promise.resolve(false);
    return this.#whileBusy(id, async () => {
      const gone = await this.db.transaction().execute(async (trx) => {
        await trx.deleteFrom('evaluations').where('event_id', '=', id).execute();
        return (await trx.deleteFrom('events').where('id', '=', id).executeTakeFirst()).numDeletedRows > 0n;
      });
      if (gone) await this.files.remove(id);
      return gone;
    });
  }

  /** Path of an evidence file, or null when the id is not an event id or the file is not there. */
  filePath(id: string, kind: EvidenceKind): string | null {
    if (!isEventId(id)) return null;
    const path = this.files.path(id, kind);
    return existsSync(path) ? path : null;
  }

  /** A camera's evaluations with pdt in [fromPdt, toPdt], oldest first (playback overlays). */
  evaluationsBetween(camera: string, fromPdt: number, toPdt: number, rule?: string): Promise<Evaluation[]> {
    return evaluationsBetween(this.db, camera, fromPdt, toPdt, rule);
  }

  /** Applies `events:` retention at `now` (wall clock ms; pdt is the camera's wall clock). Rows go first, then files. */
  retain(cfg: EventsConfig, now = Date.now()): Promise<RetentionResult> {
    return retain(this.db, this.files, cfg, now);
  }

  /** Startup: removes folders without a row, settles interrupted replacements, reports rows missing files. */
  async sweep(): Promise<SweepResult> {
    const result = await sweep(this.db, this.files, new Set(this.#busy.keys()));
    if (result.removedFolders.length || result.promoted || result.dropped) {
      this.log?.info({ removed: result.removedFolders.length, promoted: result.promoted, dropped: result.dropped }, 'event files settled after an interrupted write');
    }
    for (const m of result.missingFiles) this.log?.warn({ event: m.id, missing: m.kinds }, 'event evidence files are missing; the event is kept without them');
    return result;
  }

  #queued(n: number): void {
    if (n > 0) this.#notify?.queued?.();
  }

  async #whileBusy<T>(id: string, fn: () => Promise<T>): Promise<T> {
    this.#busy.set(id, (this.#busy.get(id) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const n = this.#busy.get(id)! - 1;
      if (n) this.#busy.set(id, n);
      else this.#busy.delete(id);
    }
  }
}
