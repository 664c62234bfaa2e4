// The engine status banner: polls `/api/health` and says what the vision engine is doing when that matters
// to the operator (downloading the model, failed and what to do, restarting, starting); hidden when the
// engine is ready or the server runs without one. Video never depends on it.
import type { EngineHealth, HealthInfo } from '../../server/wire.ts';

export interface EngineNotice {
  level: 'info' | 'warn' | 'error';
  title: string;
  detail: string | null;
  /** Download progress 0..1, when known. */
  progress: number | null;
}

const MB = 1024 * 1024;
const size = (bytes: number) => (bytes >= 1024 * MB ? `${(bytes / 1024 / MB).toFixed(2)} GB` : `${Math.round(bytes / MB)} MB`);

function pulling(e: EngineHealth): EngineNotice {
  const p = e.pull;
  const progress = p && p.total ? p.bytes / p.total : null;
  const amount = p ? (p.total ? `${size(p.bytes)} of ${size(p.total)} (${Math.floor((progress ?? 0) * 100)}%)` : size(p.bytes)) : '';
  return { level: 'info', title: `Downloading the vision model${p ? ` ${p.file}` : ''}: ${amount}`.trim(), detail: 'Rules start when it is done; video runs meanwhile. An interrupted download resumes.', progress };
}

/** What the banner shows for an engine state; null hides it. */
export function engineNotice(e: EngineHealth): EngineNotice | null {
  if (e.state === 'pulling') return pulling(e);
  if (e.state === 'failed' || e.error) {
    const err = e.error;
    return { level: 'error', title: `Vision engine failed${err ? `: ${err.message}` : ''}`, detail: err?.hint ?? 'Run `vigil doctor` to see why; rules are paused, video runs on.', progress: null };
  }
  if (e.state === 'restarting') return { level: 'warn', title: 'Vision engine restarting', detail: 'Rules pause and resume by themselves; video is unaffected.', progress: null };
  if (e.state === 'starting') return { level: 'info', title: `Vision engine starting${e.model ? ` (${e.model})` : ''}`, detail: 'Loading the model; rules start when it is ready.', progress: null };
  return null;
}

export class EngineBanner {
  readonly el = document.createElement('div');
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor() {
    this.el.className = 'engine-banner';
    this.el.hidden = true;
    this.el.setAttribute('role', 'status');
  }

  start(): void {
    void this.poll();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  render(e: EngineHealth): void {
    const n = engineNotice(e);
    this.el.hidden = n === null;
    this.el.dataset.state = e.state;
    if (!n) return this.el.replaceChildren();
    this.el.dataset.level = n.level;
    const title = Object.assign(document.createElement('strong'), { textContent: n.title });
    const parts: HTMLElement[] = [title];
    if (n.detail) parts.push(Object.assign(document.createElement('span'), { className: 'detail', textContent: n.detail }));
    if (n.progress !== null) parts.push(Object.assign(document.createElement('progress'), { max: 1, value: n.progress }));
    this.el.replaceChildren(...parts);
  }

  private async poll(): Promise<void> {
    let state = 'unknown';
    try {
      const res = await fetch('/api/health', { cache: 'no-store' });
      if (res.ok) {
        const h = (await res.json()) as HealthInfo;
        state = h.engine.state;
        this.render(h.engine);
      }
    } catch {
      /* server restarting: the connection indicator says so; keep the last banner */
    }
    if (this.stopped) return;
    // Progress moves fast while pulling; otherwise a state change within a few seconds is soon enough.
    this.timer = setTimeout(() => void this.poll(), state === 'pulling' ? 1000 : 3000);
  }
}
