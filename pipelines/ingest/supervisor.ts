// One supervisor per camera: owns one ffmpeg child at a time (one connection to the camera), restarts it on every
// exit (ffmpeg exits 0 when a camera dies) with backoff, kills it when frames stop (stall watchdog), and turns its
// output into timestamped frames. Each (re)start is a new run; anything from an ended run is discarded.
//
// Consumes: camera/ingest/hls/recording config. Emits: 'frame' (Frame with PDT), 'state' (CameraSnapshot on every
// state change), 'run' (a new run's first segment is in the fresh live playlist: players reload now).
import { mkdir } from 'node:fs/promises';
import type { CameraConfig, HlsConfig, IngestConfig, RecordingConfig } from '../../config/schema.ts';
import { scrub, secretsOf } from '../../config/redact.ts';
import type { Logger } from '../log.ts';
import type { GridOptions } from '../grid.ts';
import { SafeEmitter } from '../safe-emitter.ts';
import { buildFfmpegArgs, inputArgs, probeInputArgs, sourceKind, TESTSRC, type DecodeMode, type SourceInfo } from './args.ts';
import { classifyExit, failure, LineTail, type Failure } from './exit-reason.ts';
import { FramePairer, JpegSplitter, LineSplitter, ShowinfoParser, type TimedJpeg } from './frame-stream.ts';
import { FrameSlot } from './frame-slot.ts';
import { LivePlaylist } from './live-playlist.ts';
import { showsSplitFrames, spawnRun, SPLIT_FRAMES_REASON } from './merged-run.ts';
import { PacketClock } from './packet-clock.ts';
import { terminate, type Run } from './run.ts';
import { cameraHlsDir, cameraRecordingDir } from './paths.ts';
import { PdtMapper } from './pdt.ts';
import { probeSource } from './probe.ts';
import { RestartPlan } from './restart-plan.ts';
import type { RecordingIndex } from './recording-index.ts';
import { RecordingKeeper } from './retention.ts';
import { stallReason, watchdogLimits } from './run-watchdog.ts';
import { InputStreamWatch, sourceChange, type SeenStream } from './source-change.ts';
import { StateChangeLog } from './state-log.ts';
import { videoPath } from './transcode.ts';
import type { CameraSnapshot, CameraState, CameraSupervisorEvents, Frame, VideoPath } from './types.ts';

export interface CameraSupervisorOptions {
  camera: CameraConfig;
  ingest: IngestConfig;
  hls: HlsConfig;
  recording: RecordingConfig;
  dataDir: string;
  logger: Logger;
  /** Where retired segments are indexed (the store, injected by the composition root). */
  recordings: RecordingIndex;
  /** The engine's grid and pixel budget (from the composition root): sampled frames are scaled onto it once. */
  grid: GridOptions;
}

/** SIGTERM lets ffmpeg close the playlist cleanly; past this grace it gets SIGKILL. */
export const KILL_GRACE_MS = 3000;
/** How often the live playlist is read (PDT anchor, retention) and the watchdog looks at the clock. */
const TICK_MS = 250;
/** Frames held while waiting for the run's first segment PDT (about one segment of frames). */
const MAX_PENDING = 32;
const PRUNE_EVERY_MS = 60_000;

export class CameraSupervisor extends SafeEmitter<CameraSupervisorEvents> {
  readonly #o: CameraSupervisorOptions;
  readonly #log: Logger;
  readonly #secrets: string[];
  readonly #hlsDir: string;
  readonly #keeper: RecordingKeeper;
  readonly #tail = new LineTail(100);
  #state: CameraState = 'offline';
  #reason: string | null = null;
  #decode: DecodeMode;
  #runNo = 0;
  #run: Run | null = null;
  #info: SourceInfo | null = null;
  #started = false;
  #closing: Promise<void> | null = null;
  #stopRequested = false;
  #probeAbort: AbortController | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  readonly #plan: RestartPlan;
  readonly #stateLog: StateChangeLog;
  #restarts = 0;
  #sampled = 0;
  #dropped = 0;
  #lastFramePdt: number | null = null;
  #lastPrune = 0;
  #slot = new FrameSlot();
  #video: VideoPath | null = null;
  readonly #playlist: LivePlaylist;
  /** PDT shift of the last anchored run, to publish what ffmpeg wrote after the last tick (live-playlist.ts). */
  #lastShiftMs: number | null = null;

  constructor(opts: CameraSupervisorOptions) {
    const log = opts.logger.child({ camera: opts.camera.id });
    super(log);
    this.#o = opts;
    this.#log = log;
    this.#plan = new RestartPlan(opts.ingest.backoff, opts.ingest.authBackoff);
    this.#stateLog = new StateChangeLog(log, { detail: () => ({ stderr: this.#tail.lines().slice(-10) }) });
    this.#secrets = [opts.camera.source, ...(opts.camera.inputArgs ?? [])].flatMap(secretsOf);
    this.#hlsDir = cameraHlsDir(opts.dataDir, opts.camera.id);
    this.#playlist = new LivePlaylist(this.#hlsDir);
    this.#keeper = new RecordingKeeper({
      camera: opts.camera.id,
      hlsDir: this.#hlsDir,
      recordingDir: cameraRecordingDir(opts.dataDir, opts.camera.id),
      recording: opts.recording,
      index: opts.recordings,
      logger: this.#log,
    });
    this.#decode = opts.camera.decode === 'keyframes' ? 'keyframes' : 'all';
    if (!opts.camera.enabled) this.#state = 'disabled';
  }

  start(): void {
    if (this.#started || this.#closing) return;
    this.#started = true;
    if (!this.#o.camera.enabled) return this.#setState('disabled', 'disabled in config');
    void this.#launch();
  }

  close(): Promise<void> {
    this.#stopRequested = true; // set before #shutdown runs: its state changes are requested, not failures
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  snapshot(): CameraSnapshot {
    const c = this.#o.camera;
    return {
      id: c.id,
      name: c.name ?? c.id,
      state: this.#state,
      reason: this.#reason,
      run: this.#runNo,
      lastFramePdt: this.#lastFramePdt,
      framesSampled: this.#sampled,
      framesDropped: this.#dropped + this.#slot.dropped,
      restarts: this.#restarts,
      decode: this.#decode,
      sampleInterval: c.sampleInterval,
      video: this.#video,
    };
  }

  /**
   * The camera's latest-frame slot (capacity 1): every emitted frame is put there too; a consumer awaits
   * `slot.next()`. Frames overwritten before the consumer took them count in `framesDropped`.
   */
  get slot(): FrameSlot {
    return this.#slot;
  }

  /** Feeds frames into `slot` instead of the supervisor's own one. */
  attachSlot(slot: FrameSlot): void {
    this.#slot = slot;
  }

  /** Last ~100 stderr lines (showinfo lines left out), credentials scrubbed. */
  stderrTail(): string[] {
    return this.#tail.lines();
  }

  async #launch(): Promise<void> {
    if (this.#closing) return;
    this.#setState('connecting', this.#reason);
    const probeStart = Date.now();
    try {
      this.#info ??= await this.#probe();
    } catch (err) {
      const lines = String((err as { stderr?: string }).stderr ?? (err as Error).message).split('\n').map((l) => this.#scrub(l));
      lines.forEach((l) => l && this.#tail.push(l));
      const facts = { code: 1, signal: null, hadFrame: false, stderr: [...lines, (err as Error).message], elapsedMs: Date.now() - probeStart };
      return this.#retry(classifyExit({ ...facts, ...this.#answerTimeout() }), 0);
    }
    if (this.#closing) return;
    try {
      await this.#spawnRun(this.#info);
    } catch (err) {
      this.#retry(failure('spawn', `could not start ffmpeg: ${this.#scrub((err as Error).message)}`, 'check ingest.ffmpegPath and the data folder'), 0);
    }
  }

  #probe(): Promise<SourceInfo> {
    const { camera, ingest } = this.#o;
    if (!camera.inputArgs && sourceKind(camera.source) === 'testsrc') {
      return Promise.resolve({ codec: null, width: TESTSRC.width, height: TESTSRC.height, fps: TESTSRC.fps, gopSeconds: null });
    }
    this.#probeAbort = new AbortController();
    const windowSeconds = Math.min(6, Math.max(2, 2 * camera.sampleInterval + 0.5));
    return probeSource({
      ffprobePath: ingest.ffprobePath,
      input: probeInputArgs(inputArgs(camera, ingest)),
      windowSeconds,
      timeoutMs: (windowSeconds + 4 * ingest.rtspTimeout + 5) * 1000,
      signal: this.#probeAbort.signal,
    });
  }

  async #spawnRun(info: SourceInfo): Promise<void> {
    await mkdir(this.#hlsDir, { recursive: true });
    // The previous run's (or an earlier Vigil process's) last playlist: learn the PDTs of its final segments, then
    // remove it so neither players nor this run's PDT anchor can mistake it for the new one.
    const old = await this.#playlist.retire(this.#lastShiftMs);
    this.#lastShiftMs = null;
    let startNumber = (await this.#keeper.lastSeq()) + 1;
    if (old) {
      this.#keeper.observe(old, this.#runNo, 0);
      startNumber = Math.max(startNumber, ...old.segments.map((seg) => seg.seq + 1));
    }
    await this.#keeper.sweep(Infinity);
    if (this.#closing) return;
    const { camera, ingest, hls } = this.#o;
    const built = buildFfmpegArgs({ camera, ingest, hls, hlsDir: this.#hlsDir, grid: this.#o.grid, startNumber, info });
    this.#decode = built.decode;
    this.#video = videoPath(info, built.encode, camera);
    if (this.#video.reason && this.#video.codec === 'hevc') this.#log.warn(this.#video.reason);
    const no = ++this.#runNo;
    const stderr = new LineTail(40);
    const child = spawnRun(ingest.ffmpegPath, built, (err) => stderr.push(this.#scrub(String(err))));
    const clock = new PacketClock();
    const run: Run = {
      no, child, startNumber, spawnedAt: Date.now(), firstFrameAt: null, lastFrameAt: null, seq: 0,
      info, clock, limits: watchdogLimits(ingest.stallTimeout, camera.sampleInterval, info.gopSeconds),
      mapper: new PdtMapper(startNumber, clock), pending: [], announced: false, sweptTo: startNumber,
      stderr, stopReason: null, ticking: false, decode: built.decode, lastPts: null, longGaps: 0, splitFrames: 0,
      closed: new Promise((resolve) => child.once('close', () => resolve())),
      timer: setInterval(() => void this.#tick(run), TICK_MS),
      unwatch: this.#playlist.watch(() => void this.#tick(run)),
    };
    this.#run = run;
    this.#log.info({ run: no, decode: built.decode, encode: built.encode, size: `${built.width}x${built.height}`, startNumber }, 'ffmpeg run started');
    this.#log.debug({ run: no, args: this.#scrub(built.args.join(' ')) }, 'ffmpeg arguments');
    this.#wire(run);
  }

  #wire(run: Run): void {
    const jpegs = new JpegSplitter();
    const lines = new LineSplitter();
    const showinfo = new ShowinfoParser();
    const pairer = new FramePairer();
    const input = new InputStreamWatch();
    run.child.stdout!.on('data', (chunk: Buffer) => {
      for (const j of jpegs.push(chunk)) for (const f of pairer.addJpeg(j)) this.#onFrame(run, f);
    });
    run.child.stderr!.setEncoding('utf8');
    run.child.stderr!.on('data', (chunk: string) => {
      for (const line of lines.push(chunk)) {
        if (run.clock.push(line, Date.now())) continue;
        const r = showinfo.parse(line);
        if ('frame' in r) for (const f of pairer.addInfo(r.frame)) this.#onFrame(run, f);
        else if ('other' in r) {
          const seen = input.push(r.other);
          if (seen) this.#checkSource(run, seen);
          const clean = this.#scrub(r.other);
          this.#tail.push(clean);
          run.stderr.push(clean);
          if (showsSplitFrames(r.other) && ++run.splitFrames >= 2) this.#joinSlices(run);
        }
      }
    });
    run.child.once('close', (code, signal) => this.#onClose(run, code, signal));
  }

  #onFrame(run: Run, f: TimedJpeg): void {
    this.#sampled++;
    if (run !== this.#run || run.stopReason) {
      this.#dropped++; // a frame of an ended (or ending) run: its timeline is gone
      return;
    }
    if (run.decode === 'keyframes' && this.#o.camera.decode === 'auto') this.#checkGop(run, f.info.seconds);
    const now = Date.now();
    run.lastFrameAt = now;
    if (run.firstFrameAt === null) {
      run.firstFrameAt = now;
      run.mapper.setFirstPts(f.info.seconds);
      this.#setState('live', null);
    }
    // Frames wait for the playlist (players get it first), unless its first segment is late: a long GOP.
    const late = now - run.firstFrameAt! > (this.#o.hls.segmentSeconds + 1) * 1000;
    if (!run.announced && (!late || !run.mapper.anchorOnClock(now))) {
      run.pending.push(f);
      if (run.pending.length > MAX_PENDING) (run.pending.shift(), this.#dropped++);
      return;
    }
    for (const p of run.pending.splice(0)) this.#emitFrame(run, p);
    this.#emitFrame(run, f);
  }

  /**
   * `auto` chose keyframes from a short probe; a camera can lengthen its GOP later (or the probe saw too little).
   * Three sampling gaps in a row longer than 1.5 intervals mean keyframes come too rarely: restart in full decode.
   */
  #checkGop(run: Run, pts: number): void {
    const interval = this.#o.camera.sampleInterval;
    const gap = run.lastPts === null ? 0 : pts - run.lastPts;
    run.lastPts = pts;
    run.longGaps = gap > 1.5 * interval ? run.longGaps + 1 : 0;
    if (run.longGaps < 3 || !this.#info) return;
    this.#info = { ...this.#info, gopSeconds: gap };
    run.stopReason = `keyframes every ${gap.toFixed(1)} s, longer than the ${interval} s sampling interval: switching to full decode`;
    this.#log.warn({ run: run.no }, run.stopReason);
    void terminate(run.child, KILL_GRACE_MS);
  }

  /** A camera that now sends another codec or size than probed: end the run, the next one probes again. */
  #checkSource(run: Run, seen: SeenStream): void {
    const change = this.#info && sourceChange(this.#info, seen);
    if (!change || run.stopReason) return;
    this.#info = null;
    run.stopReason = change;
    this.#log.warn({ run: run.no }, change);
    void terminate(run.child, KILL_GRACE_MS);
  }

  /** The probe missed it (no keyframe in its window): frames come one packet per slice. Restart with them joined. */
  #joinSlices(run: Run): void {
    if (run.stopReason || !this.#info || this.#info.splitFrames) return;
    this.#info = { ...this.#info, splitFrames: true };
    run.stopReason = SPLIT_FRAMES_REASON;
    this.#log.warn({ run: run.no }, run.stopReason);
    void terminate(run.child, KILL_GRACE_MS);
  }

  #emitFrame(run: Run, f: TimedJpeg): void {
    const frame: Frame = {
      camera: this.#o.camera.id,
      run: run.no,
      seq: run.seq++,
      pts: f.info.seconds,
      pdt: run.mapper.map(f.info.seconds),
      jpeg: f.jpeg,
      width: f.info.width,
      height: f.info.height,
      sourceW: this.#info?.width ?? f.info.width,
      sourceH: this.#info?.height ?? f.info.height,
    };
    this.#lastFramePdt = frame.pdt;
    this.#slot.put(frame);
    this.emit('frame', frame);
  }

  /** Reads the live playlist (PDT anchor, announce the run, retire segments) and runs the stall watchdog. */
  async #tick(run: Run): Promise<void> {
    if (run.ticking || run !== this.#run) return;
    run.ticking = true;
    try {
      this.#watchdog(run);
      const src = await this.#playlist.source();
      if (!src || run !== this.#run || !(await run.mapper.observe(src.playlist, this.#hlsDir)) || run !== this.#run) return;
      const pl = await this.#playlist.publish(src.text, run.mapper.shiftMs);
      this.#lastShiftMs = run.mapper.shiftMs;
      this.#keeper.observe(pl, run.no, run.startNumber);
      if (!run.announced) {
        run.announced = true;
        const { shiftMs, fallback } = run.mapper;
        this.#log.info({ run: run.no, pdtShiftMs: shiftMs }, 'HLS program date-times moved onto the camera clock');
        if (fallback) this.#log.warn({ run: run.no }, `frame times: ${fallback}`);
        const first = run.mapper.firstSegmentPts;
        for (const f of run.pending.splice(0)) {
          if (first !== null && f.info.seconds < first - 0.001) this.#dropped++; // not in the video, time guessed
          else this.#emitFrame(run, f);
        }
        this.emit('run', this.snapshot());
      }
      if (run.announced && pl.mediaSequence > run.sweptTo) {
        run.sweptTo = pl.mediaSequence;
        await this.#keeper.sweep(pl.mediaSequence);
      }
      if (Date.now() - this.#lastPrune > PRUNE_EVERY_MS) {
        this.#lastPrune = Date.now();
        const gone = await this.#keeper.prune();
        if (gone.length) this.#log.info({ segments: gone.length }, 'pruned recordings');
      }
    } catch (err) {
      this.#log.warn({ err: this.#scrub(String(err)) }, 'playlist/retention tick failed');
    } finally {
      run.ticking = false;
    }
  }

  #watchdog(run: Run): void {
    if (run.stopReason) return;
    const reason = stallReason({ ...run, now: Date.now(), lastPacketAt: run.clock.lastPacketAt }, run.limits);
    if (!reason) return;
    run.stopReason = reason;
    this.#log.debug({ run: run.no }, `stall watchdog: ${run.stopReason}`); // the state log reports it, rate-limited
    void terminate(run.child, KILL_GRACE_MS);
  }

  #onClose(run: Run, code: number | null, signal: NodeJS.Signals | null): void {
    clearInterval(run.timer);
    run.unwatch();
    this.#playlist.finish(run.mapper.anchored ? run.mapper.shiftMs : null);
    if (run !== this.#run) return;
    this.#run = null;
    if (this.#closing) return; // an exit we caused by close(): nothing to report
    const facts = { code, signal, hadFrame: run.firstFrameAt !== null, stderr: run.stderr.lines(), elapsedMs: Date.now() - run.spawnedAt };
    const ended = run.stopReason ? failure('restart', run.stopReason) : classifyExit({ ...facts, ...this.#answerTimeout() });
    // A camera can come back from a reboot with another codec or size: a run that read packets but never decoded a
    // frame probes again (one that never connected does not: a reconnect stays one connection).
    // Facts a run taught (#checkGop, #joinSlices) replaced #info and are kept.
    if (run.firstFrameAt === null && run.clock.packets > 0 && this.#info === run.info) this.#info = null;
    // The state log reports it (rate-limited); this line keeps each run's details for debugging.
    this.#log.debug({ run: run.no, code, signal, stderr: run.stderr.lines().slice(-15) }, `ffmpeg run ended: ${ended.what}`);
    this.#retry(ended, run.firstFrameAt === null ? 0 : Date.now() - run.firstFrameAt);
  }

  /** RTSP sources end with a misleading message when the camera never answers; the timeout tells it apart. */
  #answerTimeout(): { answerTimeoutMs?: number } {
    const { camera, ingest } = this.#o;
    return !camera.inputArgs && sourceKind(camera.source) === 'rtsp' ? { answerTimeoutMs: ingest.rtspTimeout * 1000 } : {};
  }

  #retry(f: Failure, liveMs: number): void {
    if (this.#closing) return;
    const step = this.#plan.next(f, liveMs);
    this.#setState('offline', step.reason);
    const delay = step.delayMs;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#restarts++;
      void this.#launch();
    }, delay);
  }

  async #shutdown(): Promise<void> {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#probeAbort?.abort();
    const run = this.#run;
    if (run) {
      run.stopReason ??= 'closed';
      clearInterval(run.timer);
      run.unwatch();
      await terminate(run.child, KILL_GRACE_MS);
      await run.closed;
      await this.#playlist.settled();
    }
    await this.#keeper.close(); // a sweep in flight finishes before the store closes
    if (this.#state !== 'disabled') this.#setState('offline', 'stopped');
    this.removeAllListeners();
  }

  #setState(state: CameraState, reason: string | null): void {
    if (state === this.#state && reason === this.#reason) return;
    this.#state = state;
    this.#reason = reason === null ? null : this.#scrub(reason);
    this.#stateLog.change(state, this.#reason, this.#stopRequested);
    this.emit('state', this.snapshot());
  }

  #scrub(text: string): string {
    return scrub(text, this.#secrets);
  }
}
