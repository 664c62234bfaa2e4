// The standing-rules loop: every camera's sampled frames in, evaluations, live detections and stored events
// out. Per frame: rules due (watching the camera, in schedule, `every` elapsed) -> engine ready? -> change gate
// (an unchanged frame repeats each rule's last asked answer) -> one engine ask for every due rule -> parse,
// judge -> alert state per (rule, camera) on video time -> EventSink. Frames queue in the FrameScheduler
// (newest wins, fair, bounded in flight). The engine being down never stops the loop: evaluations are
// recorded as skipped with the reason, and asking resumes by itself once the engine is ready again.
import type { VisionEngine } from '../engine/types.ts';
import type { Frame } from '../ingest/types.ts';
import type { Logger } from '../log.ts';
import { SafeEmitter } from '../safe-emitter.ts';
import type { AnalysisConfig } from '../../config/rule.ts';
import { ChangeGate } from './change-gate.ts';
import { inSchedule } from './schedule.ts';
import { AlertTracks } from './alert-tracks.ts';
import { askRules, blankEvaluation, engineSkipReason } from './evaluate.ts';
import { FrameScheduler, clipSpans, isDue, planAsks, watches, type DueRule, type Turn } from './scheduler.ts';
import { KeyedSerial, toDetection, repeatEvaluation } from './loop-parts.ts';
import { testRule, type RuleTestResult } from './rule-test.ts';
import type { ActiveRule, CloseReason, DetectionMessage, EventMessage, EventSink, Evaluation, Rule } from './types.ts';

export type { RuleTestResult };

export interface RuleLoopOptions {
  engine: VisionEngine;
  sink: EventSink;
  analysis: AnalysisConfig;
  cameras: () => ReadonlyArray<{ id: string; sampleInterval: number }>;
  log: Logger;
}

export type FrameOutcome = 'asked' | 'gated' | 'dropped-stale' | 'dropped-newer' | 'idle';

export type RuleLoopEvents = {
  evaluation: [Evaluation];
  detections: [DetectionMessage];
  event: [EventMessage];
  /** What became of each frame pushed: asked, answered by the change gate, dropped (too old / replaced by a newer one), or no rule due. */
  frame: [{ camera: string; pdt: number; outcome: FrameOutcome; ageMs: number }];
  /** One engine ask: how many questions, wall-clock ms, and the EngineError code when it was rejected. */
  ask: [{ camera: string; questions: number; ms: number; ok: boolean; code?: string }];
};

export class RuleLoop extends SafeEmitter<RuleLoopEvents> {
  private rules: ActiveRule[] = [];
  private readonly scheduler: FrameScheduler;
  private readonly gate: ChangeGate;
  private readonly tracks: AlertTracks;
  private readonly serial = new KeyedSerial();
  private readonly work = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private readonly offReady: () => void;
  private closing: Promise<void> | null = null;

  constructor(private readonly o: RuleLoopOptions) {
    super(o.log);
    this.scheduler = new FrameScheduler({ maxInFlight: o.analysis.maxInFlight, maxFrameAgeMs: o.analysis.maxFrameAge * 1000 });
    this.gate = new ChangeGate({ threshold: o.analysis.changeThreshold, forceEverySec: o.analysis.forceEvery });
    this.tracks = new AlertTracks({
      sink: o.sink,
      engine: () => ({ kind: o.engine.info.kind, model: o.engine.info.model }),
      log: o.log,
      emit: (m) => this.emit('event', m),
    });
    // Frames that waited while the engine restarted go as soon as it is back.
    this.offReady = o.engine.on('ready', () => this.pump());
  }

  /** Replaces the active rules. Open events of a removed or changed rule close ('rule-removed' / 'rule-changed'). */
  async setRules(rules: readonly ActiveRule[]): Promise<void> {
    const next = rules.filter((a) => a.rule.enabled);
    const byId = new Map(next.map((a) => [a.rule.id, a]));
    const ended: Array<[string, CloseReason]> = [];
    for (const old of this.rules) {
      const now = byId.get(old.rule.id);
      if (!now) ended.push([old.rule.id, 'rule-removed']);
      else if (now.version !== old.version || JSON.stringify(now.rule) !== JSON.stringify(old.rule)) ended.push([old.rule.id, 'rule-changed']);
    }
    this.rules = next;
    this.scheduler.setClipSpans(clipSpans(next, this.o.cameras().map((c) => c.id)));
    await Promise.all(
      ended.flatMap(([id, reason]) =>
        this.tracks.ofRule(id).map((t) => {
          this.gate.reset(t.camera);
          return this.serial.run(t.camera, () => this.tracks.drop(t, reason));
        }),
      ),
    );
  }

  /** A sampled frame from a camera; the newest waiting frame of a camera replaces the older one. */
  push(frame: Frame): void {
    if (this.closing) return;
    const replaced = this.scheduler.push(frame);
    if (replaced) this.emit('frame', { camera: replaced.camera, pdt: replaced.pdt, outcome: 'dropped-newer', ageMs: Date.now() - replaced.pdt });
    this.pump();
  }

  /** The newest frame seen from a camera (for rule tests on demand). */
  latest(camera: string): Frame | null {
    return this.scheduler.latest(camera);
  }

  /** Runs a rule now on a frame, touching no state, no store and no live messages. */
  test(rule: Rule, frame: Frame): Promise<RuleTestResult> {
    const frames = rule.clip ? (this.scheduler.clip(frame, rule.clip) ?? [frame]) : [frame];
    return testRule(this.o.engine, rule, frames);
  }

  /** Stops taking frames, waits for the work in flight, writes what it held back and closes open events ('shutdown'). */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      this.offReady();
      this.stop.abort();
      await Promise.allSettled([...this.work]);
      await this.serial.idle();
      await this.tracks.flushAll();
      try {
        for (const event of await this.o.sink.closeAllOpen('shutdown')) this.emit('event', { type: 'closed', event, framePdt: event.endPdt ?? Date.now() });
      } catch (err) {
        this.o.log.error({ err }, 'could not close the open events on shutdown; the next start closes them');
      }
      this.removeAllListeners();
    })());
  }

  private pump(): void {
    for (let turn = this.scheduler.next(); turn; turn = this.scheduler.next()) {
      if (turn.stale) {
        this.emit('frame', { camera: turn.frame.camera, pdt: turn.frame.pdt, outcome: 'dropped-stale', ageMs: Date.now() - turn.frame.pdt });
        continue;
      }
      this.start(turn);
    }
  }

  private start(turn: Turn): void {
    const camera = turn.frame.camera;
    const p: Promise<void> = this.evaluateFrame(turn.frame)
      .catch((err: unknown) => this.o.log.error({ err, camera }, 'frame evaluation failed; the loop goes on'))
      .finally(() => {
        this.work.delete(p);
        this.scheduler.done(camera);
        if (!this.closing) this.pump();
      });
    this.work.add(p);
  }

  private async evaluateFrame(frame: Frame): Promise<void> {
    const due = await this.dueRules(frame);
    const report = (outcome: FrameOutcome) => this.emit('frame', { camera: frame.camera, pdt: frame.pdt, outcome, ageMs: Date.now() - frame.pdt });
    if (due.length === 0) return report('idle');
    const down = engineSkipReason(this.o.engine);
    if (down) {
      await this.record(due.map((d) => blankEvaluation(d.active, frame, 'skipped', down)), frame);
      return report('idle');
    }
    const gate = await this.gate.check(frame.camera, frame.jpeg, frame.pdt);
    const toAsk: DueRule[] = [];
    const repeated: Evaluation[] = [];
    for (const d of due) {
      const last = gate.ask ? null : this.tracks.peek(d.active.rule.id, frame.camera)?.lastAsked;
      if (last) repeated.push(repeatEvaluation(last, frame));
      else toAsk.push(d);
    }
    await this.record(repeated, frame);
    if (toAsk.length === 0) return report('gated');
    let ok = true;
    for (const group of planAsks(toAsk, this.o.engine.info.maxQuestionsPerAsk)) {
      if (this.stop.signal.aborted) return;
      const res = await askRules(this.o.engine, group, this.stop.signal);
      ok &&= res.ok;
      this.emit('ask', { camera: frame.camera, questions: group.length, ms: res.ms, ok: res.ok, ...(res.code ? { code: res.code } : {}) });
      if (this.stop.signal.aborted) return; // shutting down: the answers are discarded
      await this.record(res.evaluations, frame);
    }
    // Only a frame every due rule was asked about becomes the gate's new reference (and resets its forced re-check).
    if (ok && gate.ask) this.gate.accept(frame.camera, frame.pdt);
    report('asked');
  }

  /** Rules due on this frame; closes open events of rules whose schedule has ended. */
  private async dueRules(frame: Frame): Promise<DueRule[]> {
    const cam = this.o.cameras().find((c) => c.id === frame.camera);
    const sampleInterval = cam?.sampleInterval ?? 1;
    const due: DueRule[] = [];
    for (const active of this.rules) {
      if (!watches(active.rule, frame.camera)) continue;
      const track = this.tracks.get(active, frame.camera);
      if (active.rule.schedule && !inSchedule(active.rule.schedule, frame.pdt)) {
        if (track.eventId || track.state.phase === 'open' || track.state.phase === 'closing') {
          await this.serial.run(frame.camera, () => this.tracks.forceClose(track, frame.pdt, 'schedule'));
        }
        continue;
      }
      if (!isDue(active.rule, track.lastPdt, frame.pdt, sampleInterval)) continue;
      const frames = active.rule.clip ? this.scheduler.clip(frame, active.rule.clip) : [frame];
      if (frames) due.push({ active, frames });
    }
    return due;
  }

  /** Publishes evaluations live and feeds them into their tracks (in camera order, after setRules' closes). */
  private async record(evals: readonly Evaluation[], frame: Frame): Promise<void> {
    for (const ev of evals) {
      this.emit('evaluation', ev);
      this.emit('detections', toDetection(ev));
    }
    await this.serial.run(frame.camera, async () => {
      for (const ev of evals) {
        const active = this.rules.find((a) => a.rule.id === ev.rule);
        // An answer for a rule changed or removed while it was being asked: stored, but it moves no state.
        if (!active || active.version !== ev.ruleVersion) await this.o.sink.addEvaluations([{ evaluation: ev, eventId: null }]).catch(() => undefined);
        else await this.tracks.apply(this.tracks.get(active, frame.camera), ev, frame);
      }
    });
  }
}
