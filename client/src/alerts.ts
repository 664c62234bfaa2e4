// Open events, kept from live `event` messages and a fetch of `GET /api/events?state=open` at start and on
// every reconnect (messages missed while disconnected). A fetch answers for the moment it was sent: events
// that changed live since then keep their live state, so a slow fetch never resurrects a closed event nor
// drops one opened meanwhile. Pure logic plus one fetch: test/e2e/alerts.test.ts covers the merge.
import type { EventInfo, EventMessage } from '../../server/wire.ts';

type Listener = () => void;

export class AlertStore {
  private readonly open = new Map<string, EventInfo>();
  /** When each event last changed live (a counter, not a clock): newer than a fetch's start wins. */
  private readonly touched = new Map<string, number>();
  private tick = 0;
  /** The mark of the newest fetch applied: an older fetch answering late is ignored. */
  private replaced = -1;
  private readonly listeners = new Set<Listener>();

  /** Applies one live message; returns true when it opened an event not known before. */
  apply(m: EventMessage): boolean {
    const id = m.event.id;
    this.touched.set(id, ++this.tick);
    const isNew = m.type !== 'closed' && !this.open.has(id);
    if (m.type === 'closed' || m.event.state === 'closed') this.open.delete(id);
    else this.open.set(id, m.event);
    this.changed();
    return isNew && m.type === 'opened';
  }

  /** Starts a fetch window: pass the returned mark to `replace` with that fetch's answer. */
  mark(): number {
    return this.tick;
  }

  /** The open events as of `mark`; events that changed live after it keep their live state. */
  replace(events: EventInfo[], mark: number): void {
    if (mark < this.replaced) return;
    this.replaced = mark;
    const fetched = new Map(events.filter((e) => e.state === 'open').map((e) => [e.id, e]));
    for (const id of [...this.open.keys()]) if (!fetched.has(id) && (this.touched.get(id) ?? 0) <= mark) this.open.delete(id);
    for (const [id, e] of fetched) if ((this.touched.get(id) ?? 0) <= mark) this.open.set(id, e);
    // What changed up to the mark is now in the fetched state: forget it (bounded memory all day).
    for (const [id, t] of this.touched) if (t <= mark) this.touched.delete(id);
    this.changed();
  }

  /** Open events, newest first. */
  list(camera?: string): EventInfo[] {
    return [...this.open.values()].filter((e) => camera === undefined || e.camera === camera).sort((a, b) => b.startPdt - a.startPdt);
  }

  /** Open events of severity `alert` (what the title badge counts). */
  alertCount(camera?: string): number {
    return this.list(camera).filter((e) => e.severity === 'alert').length;
  }

  onChange(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private changed(): void {
    this.listeners.forEach((l) => l());
  }
}

/** Fetches the open events into `store`; false when the server has no events API (nothing changes). */
export async function fetchOpenEvents(store: AlertStore): Promise<boolean> {
  const mark = store.mark();
  const res = await fetch('/api/events?state=open', { cache: 'no-store' }).catch(() => null);
  if (!res?.ok) return false;
  const body = (await res.json()) as { events: EventInfo[] };
  store.replace(body.events, mark);
  return true;
}
