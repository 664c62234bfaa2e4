// The alert state of every (rule, camera) pair and the store calls it causes. Each track feeds its rule's
// evaluations into a RuleState (video time) and turns the changes into EventSink calls: open with the
// evidence and the evaluations that confirmed it, update on a bigger count, close with the reason.
// Evaluations are written once: those in the confirmation window wait (at most `trigger.of` of them) so
// that an event that opens takes them as its own; the rest are written as they come, with their event id.
// A sink failure is logged and loses only that write: the loop and the other tracks go on.
import type { Frame } from '../ingest/types.ts';
import type { Logger } from '../log.ts';
import { RuleState } from './rule-state.ts';
import { buildEvidence } from './evidence.ts';
import type { ActiveRule, CloseReason, EventMessage, EventRecord, EventSink, Evaluation, StateChange } from './types.ts';

export interface TrackDeps {
  sink: EventSink;
  engine: () => { kind: string; model: string };
  log: Logger;
  emit: (m: EventMessage) => void;
}

export class AlertTrack {
  readonly state: RuleState;
  /** The rule as last set (same version: same content, setRules closes a track whose rule changed). */
  active: ActiveRule;
  eventId: string | null = null;
  /** The last evaluation the model answered (what a gated frame repeats). */
  lastAsked: Evaluation | null = null;
  /** pdt of the last evaluation of any outcome (for `every`). */
  lastPdt: number | undefined;
  /** Positives and negatives not yet written: the window an opening event takes as its evidence. */
  window: Evaluation[] = [];

  constructor(
    active: ActiveRule,
    readonly camera: string,
  ) {
    this.active = active;
    this.state = new RuleState(active.rule);
  }
}

const key = (rule: string, camera: string) => `${rule}\u0000${camera}`;

export class AlertTracks {
  private readonly tracks = new Map<string, AlertTrack>();

  constructor(private readonly d: TrackDeps) {}

  /** The track of a rule on a camera; a new version of the rule starts a new one. */
  get(active: ActiveRule, camera: string): AlertTrack {
    const k = key(active.rule.id, camera);
    let t = this.tracks.get(k);
    if (!t || t.active.version !== active.version) {
      t = new AlertTrack(active, camera);
      this.tracks.set(k, t);
    }
    t.active = active;
    return t;
  }

  peek(rule: string, camera: string): AlertTrack | undefined {
    return this.tracks.get(key(rule, camera));
  }

  ofRule(rule: string): AlertTrack[] {
    return [...this.tracks.values()].filter((t) => t.active.rule.id === rule);
  }

  ofCamera(camera: string): AlertTrack[] {
    return [...this.tracks.values()].filter((t) => t.camera === camera);
  }

  /** Feeds one evaluation of the track's rule (with the frame it was made on) into its state and the store. */
  async apply(t: AlertTrack, ev: Evaluation, frame: Frame): Promise<void> {
    t.lastPdt = ev.pdt;
    if (ev.outcome === 'skipped' || ev.outcome === 'error') return this.write([{ evaluation: ev, eventId: t.eventId }]);
    if (!ev.gated) t.lastAsked = ev;
    const wasOpen = t.eventId;
    const changes = t.state.observe({ pdt: ev.pdt, positive: ev.outcome === 'positive', count: ev.count ?? (ev.outcome === 'positive' ? 1 : 0) });
    const opens = changes.some((c) => c.type === 'opened');
    if (!wasOpen || opens) {
      t.window.push(ev);
      await this.trimWindow(t);
    } else await this.write([{ evaluation: ev, eventId: wasOpen }]);
    for (const c of changes) await this.change(t, c, ev, frame);
  }

  /** Closes the track's open event (schedule end, rule changed or removed) and writes what it held back. */
  async forceClose(t: AlertTrack, pdt: number, reason: CloseReason): Promise<void> {
    for (const c of t.state.forceClose(pdt, reason)) await this.change(t, c, null, null);
    await this.flush(t);
  }

  async drop(t: AlertTrack, reason: CloseReason): Promise<void> {
    await this.forceClose(t, t.lastPdt ?? Date.now(), reason);
    this.tracks.delete(key(t.active.rule.id, t.camera));
  }

  /** Writes every held-back evaluation (shutdown). */
  async flushAll(): Promise<void> {
    for (const t of this.tracks.values()) await this.flush(t);
  }

  private async change(t: AlertTrack, c: StateChange, ev: Evaluation | null, frame: Frame | null): Promise<void> {
    if (c.type === 'opened' && ev && frame) return this.open(t, c.pdt, ev, frame);
    if (c.type === 'updated' && t.eventId) {
      const evidence = c.betterFrame && ev && frame ? await this.evidence(frame, ev) : undefined;
      const id = t.eventId;
      const rec = await this.call(() => this.d.sink.update(id, { endPdt: c.pdt, peak: c.peak, ...(evidence ? { evidence } : {}) }), () => this.letGo(t, id));
      if (rec) this.d.emit({ type: 'updated', event: rec, framePdt: ev?.pdt ?? c.pdt });
    }
    if (c.type === 'closed' && t.eventId) {
      const id = t.eventId;
      t.eventId = null;
      const rec = await this.call(() => this.d.sink.close(id, c.pdt, c.reason, ev?.pdt ?? c.pdt), () => this.letGo(t, id));
      if (rec) this.d.emit({ type: 'closed', event: rec, framePdt: ev?.pdt ?? c.pdt });
    }
  }

  private async open(t: AlertTrack, pdt: number, ev: Evaluation, frame: Frame): Promise<void> {
    const evidence = await this.evidence(frame, ev);
    const evaluations = t.window.splice(0);
    if (!evidence) return this.write(evaluations.map((evaluation) => ({ evaluation, eventId: null })));
    const rec: EventRecord | null = await this.call(() =>
      this.d.sink.open({
        rule: t.active,
        camera: t.camera,
        startPdt: pdt,
        prompt: ev.prompt ?? t.lastAsked?.prompt ?? '',
        engine: this.d.engine(),
        peak: Math.max(1, t.state.peak, ev.count ?? 0),
        evidence,
        evaluations,
      }),
    );
    if (!rec) return;
    t.eventId = rec.id;
    this.d.emit({ type: 'opened', event: rec, framePdt: ev.pdt });
  }

  private async evidence(frame: Frame, ev: Evaluation) {
    try {
      return await buildEvidence(frame, ev);
    } catch (err) {
      this.d.log.error({ err, rule: ev.rule, camera: ev.camera }, 'could not draw the event evidence; the event is not stored');
      return null;
    }
  }

  /** Writes evaluations that fell out of the confirmation window (they belong to no event). */
  private async trimWindow(t: AlertTrack): Promise<void> {
    const over = t.window.length - t.active.rule.trigger.of;
    if (over > 0) await this.write(t.window.splice(0, over).map((evaluation) => ({ evaluation, eventId: null })));
  }

  private async flush(t: AlertTrack): Promise<void> {
    await this.write(t.window.splice(0).map((evaluation) => ({ evaluation, eventId: null })));
  }

  private async write(evals: Array<{ evaluation: Evaluation; eventId: string | null }>): Promise<void> {
    if (evals.length) await this.call(() => this.d.sink.addEvaluations(evals));
  }

  /** A store write; a failure is logged and the loop goes on. `gone`: what to do when the event it names no longer exists. */
  private async call<T>(fn: () => Promise<T>, gone?: () => void): Promise<T | null> {
    try {
      return await fn();
    } catch (err) {
      if (gone && (err as { code?: unknown }).code === 'EVENT_NOT_FOUND') gone();
      else this.d.log.error({ err }, 'event store write failed; the loop goes on');
      return null;
    }
  }

  /** The open event was deleted (an operator, through the API): the track lets go of it. The occurrence stays
   *  without an event until its condition ends (deleting it was the operator's answer to it); the next one opens anew. */
  private letGo(t: AlertTrack, id: string): void {
    if (t.eventId === id) t.eventId = null;
    this.d.log.info({ event: id, rule: t.active.rule.id, camera: t.camera }, 'open event deleted; its condition is followed without an event until it ends');
  }
}
