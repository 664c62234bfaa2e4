// Open alerts on the page: a list of open events with their thumbnails (newest first, a click opens the
// camera; hidden while none is open), the page title's count badge "(2) Vigil", and the alert sound toggle.
// Tile badges: views.ts.
import type { EventInfo } from '../../server/wire.ts';
import type { AlertStore } from './alerts.ts';
import type { AlertSound } from './sound.ts';

const BASE_TITLE = 'Vigil';

/** "(2) Vigil" while alerts are open: visible on a background tab. */
export function titleWithCount(n: number): string {
  return n > 0 ? `(${n}) ${BASE_TITLE}` : BASE_TITLE;
}

function since(pdt: number): string {
  const s = Math.max(0, Math.round((Date.now() - pdt) / 1000));
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export class AlertsPanel {
  readonly el = el('section', 'alerts');
  private readonly list = el('ol', 'alert-list');
  private readonly heading = el('h2', 'alerts-title');
  /** Lives in the page header (always visible: the sound must be switched on before the first alert). */
  readonly soundButton = el('button', 'sound-toggle');
  private readonly timer = setInterval(() => this.render(), 10_000);

  constructor(
    private readonly store: AlertStore,
    private readonly sound: AlertSound,
    private readonly cameraName: (id: string) => string,
  ) {
    this.soundButton.type = 'button';
    this.soundButton.addEventListener('click', () => {
      this.sound.toggle();
      this.renderSound();
    });
    const head = el('header', 'alerts-head');
    head.append(this.heading, this.soundButton);
    this.el.append(head, this.list);
    store.onChange(() => this.render());
    this.render();
    this.renderSound();
  }

  destroy(): void {
    clearInterval(this.timer);
  }

  render(): void {
    const open = this.store.list();
    this.el.hidden = open.length === 0;
    this.heading.textContent = `Open events (${open.length})`;
    this.list.replaceChildren(...open.map((e) => this.item(e)));
    document.title = titleWithCount(this.store.alertCount());
  }

  private renderSound(): void {
    const on = this.sound.enabled;
    this.soundButton.textContent = on ? 'sound on' : 'sound off';
    this.soundButton.setAttribute('aria-pressed', String(on));
    this.soundButton.title = on ? 'A tone plays when an alert opens' : 'Play a tone when an alert opens';
  }

  private item(e: EventInfo): HTMLLIElement {
    const li = el('li', 'alert-item');
    li.dataset.event = e.id;
    li.dataset.camera = e.camera;
    li.dataset.severity = e.severity;
    const link = el('a', 'alert-link');
    link.href = `#/camera/${encodeURIComponent(e.camera)}`;
    const img = el('img', 'alert-thumb');
    // A better frame replaces the event's pictures under the same URL: the best frame's pdt keeps caches honest.
    img.src = `${e.thumbnail}?v=${e.bestPdt}`;
    img.alt = `${e.ruleName} on ${this.cameraName(e.camera)}`;
    img.loading = 'lazy';
    const text = el('div', 'alert-text');
    text.append(
      el('strong', 'alert-rule', e.ruleName),
      el('span', 'alert-camera', this.cameraName(e.camera)),
      el('span', 'alert-meta', `${e.severity} · open ${since(e.startPdt)}${e.peak > 1 ? ` · peak ${e.peak}` : ''}`),
    );
    link.append(img, text);
    li.append(link);
    return li;
  }
}
