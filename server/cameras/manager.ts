// CameraManager: owns one CameraSupervisor per configured camera and republishes their events as
// wire-safe values (CameraInfo, FrameEvent). Consumes the frozen config; emits `camera` on every state
// change or new run, and `frame` for every sampled frame (with the JPEG, for in-process consumers).
// A supervisor that throws on construction or start leaves its camera offline; the others run on.
import type { VigilConfig, CameraConfig } from '../../config/schema.ts';
import type { CameraSnapshot, CameraSupervisorEvents, Frame } from '../../pipelines/ingest/types.ts';
import type { CameraSupervisorOptions } from '../../pipelines/ingest/supervisor.ts';
import type { CameraInfo, FrameEvent } from '../wire.ts';
import { scrub, secretsOf } from '../../config/redact.ts';
import type { Logger } from '../log.ts';
import { SafeEmitter } from '../../pipelines/safe-emitter.ts';

/** The part of pipelines/ingest CameraSupervisor the server relies on. */
export interface Supervisor {
  on<K extends keyof CameraSupervisorEvents>(event: K, fn: (...args: CameraSupervisorEvents[K]) => void): unknown;
  start(): void;
  close(): Promise<void>;
  snapshot(): CameraSnapshot;
  stderrTail(): string[];
}

/** What the manager knows from the config; the factory adds the store's recording index and the engine's grid. */
export type SupervisorOptions = Omit<CameraSupervisorOptions, 'recordings' | 'grid'>;

export type SupervisorFactory = (opts: SupervisorOptions) => Supervisor;

export interface CameraManagerEvents {
  camera: [CameraInfo];
  frame: [Frame];
}

interface Slot {
  config: CameraConfig;
  supervisor: Supervisor | null;
  /** Used when there is no supervisor (disabled, or it failed to start). */
  fallback: CameraSnapshot;
  secrets: string[];
  /** Last run announced by the supervisor's 'run' event (its playlist is ready). */
  hlsRun: number | null;
}

export const hlsUrl = (id: string) => `/hls/${encodeURIComponent(id)}/live.m3u8`;

export class CameraManager extends SafeEmitter<CameraManagerEvents> {
  private readonly slots = new Map<string, Slot>();
  private closing: Promise<void> | null = null;

  constructor(
    private readonly config: Readonly<VigilConfig>,
    private readonly factory: SupervisorFactory,
    private readonly log: Logger,
  ) {
    super(log);
    for (const cam of config.cameras) this.slots.set(cam.id, this.emptySlot(cam));
  }

  /** Creates and starts every enabled camera's supervisor; never throws for a single camera's fault. */
  start(): void {
    for (const slot of this.slots.values()) if (slot.config.enabled) this.startOne(slot);
  }

  has(id: string): boolean {
    return this.slots.has(id);
  }

  list(): CameraInfo[] {
    return [...this.slots.keys()].map((id) => this.get(id) as CameraInfo);
  }

  get(id: string): CameraInfo | null {
    const slot = this.slots.get(id);
    if (!slot) return null;
    return toCameraInfo(safeSnapshot(slot), slot.secrets, slot.hlsRun);
  }

  /** Closes every supervisor (their ffmpeg children exit); idempotent. */
  close(): Promise<void> {
    this.closing ??= Promise.allSettled(
      [...this.slots.values()].map(async (slot) => {
        const sup = slot.supervisor;
        if (!sup) return;
        try {
          await sup.close();
        } catch (err) {
          this.log.error({ camera: slot.config.id, err }, 'camera supervisor failed to close');
        }
      }),
    ).then(() => undefined);
    return this.closing;
  }

  private emptySlot(cam: CameraConfig): Slot {
    return {
      config: cam,
      supervisor: null,
      secrets: secretsOf(cam.source),
      hlsRun: null,
      fallback: {
        id: cam.id,
        name: cam.name ?? cam.id,
        state: cam.enabled ? 'connecting' : 'disabled',
        reason: cam.enabled ? null : 'disabled in the configuration',
        run: 0,
        lastFramePdt: null,
        framesSampled: 0,
        framesDropped: 0,
        restarts: 0,
        decode: cam.decode === 'keyframes' ? 'keyframes' : 'all',
        sampleInterval: cam.sampleInterval,
      },
    };
  }

  private startOne(slot: Slot): void {
    const id = slot.config.id;
    const logger = this.log.child({ camera: id });
    try {
      const sup = this.factory({
        camera: slot.config,
        ingest: this.config.ingest,
        hls: this.config.hls,
        recording: this.config.recording,
        dataDir: this.config.server.dataDir,
        // The supervisor binds its own camera id (and run); binding it here too would duplicate the key.
        logger: this.log,
      });
      slot.supervisor = sup;
      sup.on('state', (snap) => this.emit('camera', toCameraInfo(snap, slot.secrets, slot.hlsRun)));
      sup.on('run', (snap) => {
        slot.hlsRun = snap.run;
        this.emit('camera', toCameraInfo(snap, slot.secrets, slot.hlsRun));
      });
      sup.on('frame', (frame) => this.emit('frame', frame));
      sup.start();
    } catch (err) {
      slot.supervisor = null;
      const reason = scrub(`failed to start: ${(err as Error)?.message ?? String(err)}`, slot.secrets);
      slot.fallback = { ...slot.fallback, state: 'offline', reason };
      logger.error({ reason }, 'camera failed to start');
      this.emit('camera', toCameraInfo(slot.fallback, slot.secrets, null));
    }
  }
}

function safeSnapshot(slot: Slot): CameraSnapshot {
  if (!slot.supervisor) return slot.fallback;
  try {
    return slot.supervisor.snapshot();
  } catch {
    return { ...slot.fallback, state: 'offline', reason: 'camera status unavailable' };
  }
}

/** Copies only the public fields: whatever else a snapshot carries never reaches a browser. */
export function toCameraInfo(s: CameraSnapshot, secrets: readonly string[] = [], hlsRun: number | null = null): CameraInfo {
  return {
    id: s.id,
    name: scrub(s.name, secrets),
    state: s.state,
    reason: s.reason === null ? null : scrub(s.reason, secrets),
    run: s.run,
    hlsRun,
    lastFramePdt: s.lastFramePdt,
    framesSampled: s.framesSampled,
    framesDropped: s.framesDropped,
    restarts: s.restarts,
    hls: hlsUrl(s.id),
    sampleInterval: s.sampleInterval,
    decode: s.decode,
    video: s.video ? { ...s.video, reason: s.video.reason === null ? null : scrub(s.video.reason, secrets) } : null,
  };
}

export function toFrameEvent(f: Frame): FrameEvent {
  return { camera: f.camera, run: f.run, seq: f.seq, pdt: f.pdt, width: f.width, height: f.height };
}
