// The standing-rules loop inside the server: rules from the store (the config file's `rules:` synced in first),
// every camera frame pushed into the loop, events left open by a crash closed at start, and the loop's live
// messages turned into wire messages (EventInfo = the stored record plus the URLs of its images).
import type { VigilConfig } from '../../config/schema.ts';
import type { VisionEngine } from '../../pipelines/engine/types.ts';
import { RuleLoop } from '../../pipelines/rules/rule-loop.ts';
import type { ActiveRule, DetectionMessage, EventMessage as LoopEventMessage, EventRecord } from '../../pipelines/rules/types.ts';
import type { Store } from '../../pipelines/store/index.ts';
import type { CameraManager } from '../cameras/manager.ts';
import type { Logger } from '../log.ts';
import type { EventInfo, EventMessage } from '../wire.ts';

/** An event as clients see it: the record plus where its pictures are served. */
export function toEventInfo(e: EventRecord): EventInfo {
  const base = `/api/events/${encodeURIComponent(e.id)}`;
  return { ...e, snapshot: `${base}/snapshot`, annotated: `${base}/annotated`, thumbnail: `${base}/thumbnail` };
}

export function toWireEvent(m: LoopEventMessage): EventMessage {
  return { type: m.type, event: toEventInfo(m.event) };
}

/** Settles what a crash left behind; runs at every start, with or without an engine. */
export async function recoverEvents(store: Store, log: Logger): Promise<void> {
  await store.events.sweep();
  const closed = await store.events.closeAllOpen('recovered-after-crash');
  if (closed.length) log.warn({ events: closed.map((e) => e.id) }, 'closed events left open by an earlier run that did not shut down');
}

/** The enabled rules as the store holds them now (after the config file's rules were synced in). */
export async function activeRules(store: Store): Promise<ActiveRule[]> {
  return (await store.rules.list()).filter((s) => s.rule.enabled).map((s) => ({ rule: s.rule, version: s.version }));
}

export async function startRuleLoop(config: Readonly<VigilConfig>, store: Store, cameras: CameraManager, engine: VisionEngine, log: Logger): Promise<RuleLoop> {
  const { conflicts } = await store.rules.syncProvisioned([...config.rules]);
  for (const id of conflicts) log.warn({ rule: id }, `config rule "${id}" is not used: a rule made through the API holds that id (delete it there or rename the config rule)`);
  const loop = new RuleLoop({
    engine,
    sink: store.events,
    analysis: config.analysis,
    cameras: () => config.cameras.map((c) => ({ id: c.id, sampleInterval: c.sampleInterval })),
    log: log.child({ component: 'rules' }),
  });
  await loop.setRules(await activeRules(store));
  cameras.on('frame', (f) => loop.push(f));
  return loop;
}

/** Where live rule messages go (the socket.io hub, /api/stream). */
export interface LiveRuleSink {
  detections(d: DetectionMessage): void;
  event(m: EventMessage, camera: string): void;
}

export function forwardLive(loop: RuleLoop, sinks: readonly LiveRuleSink[]): void {
  loop.on('detections', (d) => sinks.forEach((s) => s.detections(d)));
  loop.on('event', (m) => {
    const wire = toWireEvent(m);
    sinks.forEach((s) => s.event(wire, m.event.camera));
  });
}
