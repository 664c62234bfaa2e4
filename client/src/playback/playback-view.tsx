// The recorded player as a component: video + overlay canvas, a seek bar over the range, play/pause, frame step
// back/forward, speed 0.5x-4x, and (when a rule is given) a toggle between that rule's evaluations and every rule's.
import { useEffect, useRef, useState } from 'preact/hooks';
import { RecordedPlayer } from './recorded-player.ts';
import { EvaluationIndex, fetchAllEvaluations } from './evaluations.ts';

export interface PlaybackProps {
  camera: string;
  from: number;
  to: number;
  /** The event's rule: offered as a filter (on by default). */
  rule?: string;
  ruleName?: (id: string) => string;
  /** Open on the frame of this pdt (the event's best frame); default: the range's first frame. */
  openAt?: number;
}

const SPEEDS = [0.5, 1, 1.5, 2, 4];

export function vodUrl(camera: string, from: number, to: number): string {
  return `/api/cameras/${encodeURIComponent(camera)}/vod.m3u8?from=${Math.floor(from)}&to=${Math.ceil(to)}`;
}

function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour12: false, hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function RecordedPlayback({ camera, from, to, rule, ruleName, openAt }: PlaybackProps) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const player = useRef<RecordedPlayer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [time, setTime] = useState(0);
  const [shownPdt, setShownPdt] = useState<number | null>(null);
  const [duration, setDuration] = useState(0);
  const [paused, setPaused] = useState(true);
  const [speed, setSpeed] = useState(1);
  const [onlyRule, setOnlyRule] = useState(!!rule);
  const [count, setCount] = useState<number | null>(null);

  useEffect(() => {
    const video = videoRef.current!;
    const p = new RecordedPlayer(video, canvasRef.current!, camera, vodUrl(camera, from, to), new EvaluationIndex(camera, []), ruleName ?? ((id) => id));
    p.rule = onlyRule && rule ? rule : null;
    p.onError = setError;
    p.openAt = openAt ?? null;
    player.current = p;
    fetchAllEvaluations(camera, from, to, (list) => {
      if (player.current !== p) return;
      p.addEvaluations(list);
      setCount(p.debug.evaluations);
    }).catch((e: Error) => setError(`Evaluations could not be loaded (${e.message}): the video plays without the boxes.`));
    const sync = () => {
      setTime(video.currentTime);
      setShownPdt(p.debug.displayedPdt);
      setDuration(Number.isFinite(video.duration) ? video.duration : 0);
      setPaused(video.paused);
    };
    for (const ev of ['timeupdate', 'durationchange', 'play', 'pause', 'seeked']) video.addEventListener(ev, sync);
    return () => {
      for (const ev of ['timeupdate', 'durationchange', 'play', 'pause', 'seeked']) video.removeEventListener(ev, sync);
      p.destroy();
      player.current = null;
    };
  }, [camera, from, to]);

  useEffect(() => {
    const p = player.current;
    if (!p) return;
    p.rule = onlyRule && rule ? rule : null;
    p.redraw();
  }, [onlyRule, rule]);

  const video = () => videoRef.current!;
  const toggle = () => (video().paused ? void video().play().catch(() => undefined) : video().pause());
  const setRate = (r: number) => {
    video().playbackRate = r;
    setSpeed(r);
  };

  return (
    <div class="playback" data-camera={camera}>
      <div class="player playback-player">
        <video ref={videoRef} muted playsInline />
        <canvas ref={canvasRef} class="overlay" />
      </div>
      {error && <p class="error playback-error">{error}</p>}
      <div class="playback-controls">
        <button type="button" class="play" onClick={toggle} aria-label={paused ? 'Play' : 'Pause'}>
          {paused ? '▶' : '❚❚'}
        </button>
        <button type="button" class="step-back" onClick={() => player.current?.step(-1)} aria-label="Previous frame" title="Previous frame">
          ◀|
        </button>
        <button type="button" class="step-forward" onClick={() => player.current?.step(1)} aria-label="Next frame" title="Next frame">
          |▶
        </button>
        <input
          type="range"
          class="seek"
          aria-label="Seek"
          min={0}
          max={duration || 0}
          step={0.01}
          value={time}
          onInput={(e) => (video().currentTime = Number((e.target as HTMLInputElement).value))}
        />
        <span class="time">{shownPdt === null ? '--:--:--' : clock(shownPdt)}</span>
        <select class="speed" aria-label="Speed" value={String(speed)} onChange={(e) => setRate(Number((e.target as HTMLSelectElement).value))}>
          {SPEEDS.map((s) => (
            <option value={String(s)}>{s}x</option>
          ))}
        </select>
        {rule && (
          <label class="rule-filter">
            <input type="checkbox" checked={onlyRule} onChange={(e) => setOnlyRule((e.target as HTMLInputElement).checked)} /> only this rule
          </label>
        )}
        {count !== null && <span class="eval-count">{count} evaluations</span>}
      </div>
    </div>
  );
}
