// Prometheus metrics (prom-client, a registry of Vigil's own) at GET /metrics. Camera counters are read
// from the camera snapshots when scraped; the loop's figures come from its events (evaluation, frame,
// ask, event), each costing one counter or histogram update: nothing is computed per request.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CameraInfo } from './wire.ts';
import type { EngineStatusSource } from './http/api.ts';
import type { LoopEventSource, LoopEvents } from './rules/ports.ts';

const ENGINE_STATES = ['none', 'idle', 'starting', 'ready', 'restarting', 'failed', 'closed', 'pulling'];
const SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

export interface MetricsDeps {
  cameras: { list(): CameraInfo[] };
  engine?: EngineStatusSource;
}

export class VigilMetrics {
  readonly registry = new Registry();
  private loop: LoopEventSource | null = null;
  private readonly framesDroppedByLoop: Counter<'camera' | 'reason'>;
  private readonly framesEvaluated: Counter<'camera'>;
  private readonly framesGated: Counter<'camera'>;
  private readonly frameAge: Histogram<'camera'>;
  private readonly evaluations: Counter<'rule' | 'camera' | 'outcome' | 'reason'>;
  private readonly eventsOpened: Counter<'rule' | 'camera'>;
  private readonly modelSeconds: Histogram<'rule' | 'camera'>;
  private readonly tokens: Counter<'rule' | 'camera' | 'type'>;
  private readonly asks: Counter<'camera' | 'result' | 'code'>;
  private readonly messageLatency: Histogram<'type'>;

  constructor(d: MetricsDeps) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const cameraTotal = (name: string, help: string, field: 'framesSampled' | 'framesDropped' | 'restarts') =>
      new Counter({
        name,
        help,
        labelNames: ['camera'],
        registers,
        collect() {
          this.reset();
          for (const c of d.cameras.list()) this.inc({ camera: c.id }, c[field]);
        },
      });
    cameraTotal('vigil_camera_frames_sampled_total', 'Frames sampled from the camera for analysis (current ffmpeg run).', 'framesSampled');
    cameraTotal('vigil_camera_frames_dropped_total', 'Frames ingest dropped because the previous one was still being handled (current run).', 'framesDropped');
    cameraTotal('vigil_camera_restarts_total', 'ffmpeg restarts of the camera.', 'restarts');
    this.framesDroppedByLoop = new Counter({ name: 'vigil_loop_frames_dropped_total', help: 'Frames the analysis loop dropped: stale (waited past analysis.maxFrameAge) or newer (a newer frame replaced it while waiting).', labelNames: ['camera', 'reason'], registers });
    this.framesEvaluated = new Counter({ name: 'vigil_loop_frames_evaluated_total', help: 'Frames sent to the engine.', labelNames: ['camera'], registers });
    this.framesGated = new Counter({ name: 'vigil_loop_frames_gated_total', help: 'Frames the change gate found unchanged (no model call).', labelNames: ['camera'], registers });
    this.frameAge = new Histogram({ name: 'vigil_loop_frame_age_seconds', help: 'Age of a frame (wall clock minus its pdt) when it was sent to the engine.', labelNames: ['camera'], buckets: SECONDS, registers });
    this.evaluations = new Counter({ name: 'vigil_rule_evaluations_total', help: 'Rule evaluations by outcome (positive, negative, error, skipped) and reason (error code or skip reason; "gated" for change-gate repeats).', labelNames: ['rule', 'camera', 'outcome', 'reason'], registers });
    this.eventsOpened = new Counter({ name: 'vigil_rule_events_opened_total', help: 'Events opened.', labelNames: ['rule', 'camera'], registers });
    this.modelSeconds = new Histogram({ name: 'vigil_rule_model_seconds', help: "Model time of a rule's answer (encode, prefill and decode).", labelNames: ['rule', 'camera'], buckets: SECONDS, registers });
    this.tokens = new Counter({ name: 'vigil_rule_tokens_total', help: 'Tokens of rule answers (type: prompt or output).', labelNames: ['rule', 'camera', 'type'], registers });
    this.asks = new Counter({ name: 'vigil_engine_asks_total', help: 'Engine asks (one per frame and batch of rules) by result and error code.', labelNames: ['camera', 'result', 'code'], registers });
    this.messageLatency = new Histogram({ name: 'vigil_event_message_latency_seconds', help: 'Wall clock when an event message was published minus the pdt of the frame that caused it.', labelNames: ['type'], buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60], registers });
    new Gauge({
      name: 'vigil_engine_state',
      help: 'The vision engine state: 1 for the current one.',
      labelNames: ['state'],
      registers,
      collect() {
        const now = d.engine?.state ?? 'none';
        for (const s of new Set([...ENGINE_STATES, now])) this.set({ state: s }, s === now ? 1 : 0);
      },
    });
    const loopOf = () => this.loop;
    new Gauge({
      name: 'vigil_engine_queue_depth',
      help: 'Engine asks waiting or in flight.',
      registers,
      collect() {
        const l = loopOf();
        this.set(l?.queueDepth ?? l?.inFlight ?? 0);
      },
    });
  }

  /** Counts the loop's events from now on. */
  attach(loop: LoopEventSource): void {
    this.loop = loop;
    loop.on('frame', (f) => this.onFrame(f));
    loop.on('evaluation', (e) => this.onEvaluation(e));
    loop.on('ask', (a) => this.asks.inc({ camera: a.camera, result: a.ok ? 'ok' : 'failed', code: a.ok ? '' : (a.code ?? 'unknown') }));
    loop.on('event', (m) => this.onEventMessage(m));
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private onFrame(...[f]: LoopEvents['frame']): void {
    if (f.outcome === 'asked') {
      this.framesEvaluated.inc({ camera: f.camera });
      this.frameAge.observe({ camera: f.camera }, Math.max(0, f.ageMs) / 1000);
    } else if (f.outcome === 'gated') this.framesGated.inc({ camera: f.camera });
    else if (f.outcome === 'dropped-stale') this.framesDroppedByLoop.inc({ camera: f.camera, reason: 'stale' });
    else if (f.outcome === 'dropped-newer') this.framesDroppedByLoop.inc({ camera: f.camera, reason: 'newer' });
  }

  private onEvaluation(...[e]: LoopEvents['evaluation']): void {
    const where = { rule: e.rule, camera: e.camera };
    this.evaluations.inc({ ...where, outcome: e.outcome, reason: e.gated ? 'gated' : (e.reason ?? '') });
    if (e.gated || !e.timings) return;
    this.modelSeconds.observe(where, e.timings.totalMs / 1000);
    this.tokens.inc({ ...where, type: 'prompt' }, e.timings.promptTokens);
    this.tokens.inc({ ...where, type: 'output' }, e.timings.outputTokens);
  }

  private onEventMessage(...[m]: LoopEvents['event']): void {
    if (m.type === 'opened') this.eventsOpened.inc({ rule: m.event.rule, camera: m.event.camera });
    this.messageLatency.observe({ type: m.type }, Math.max(0, Date.now() - m.framePdt) / 1000);
  }
}
