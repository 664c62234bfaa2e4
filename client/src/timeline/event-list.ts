// The timeline's list state: pages fetched with the API's cursor, appended without duplicates (a live event may
// already be in a later page), live events prepended when they match the filters, and the selected row kept on
// the same event when rows are added above it. No DOM here: the page renders it.
import { signal } from '@preact/signals';
import type { EventInfo, EventMessage } from '../../../server/wire.ts';
import { fetchCounts, fetchEvents, type EventFilters } from './api.ts';

export class EventList {
  readonly events = signal<EventInfo[]>([]);
  readonly selected = signal(0);
  readonly loading = signal(false);
  readonly done = signal(false);
  readonly error = signal<string | null>(null);
  readonly unreviewed = signal<number | null>(null);
  private next: string | null = null;
  private filters: EventFilters = {};
  /** Bumped on every reset: a page answering for older filters is dropped. */
  private generation = 0;

  reset(filters: EventFilters): Promise<void> {
    this.filters = filters;
    this.generation++;
    this.next = null;
    this.events.value = [];
    this.selected.value = 0;
    this.done.value = false;
    this.loading.value = false;
    this.unreviewed.value = null;
    const gen = this.generation;
    void fetchCounts(filters).then((c) => gen === this.generation && c && (this.unreviewed.value = c.unreviewed));
    return this.loadMore();
  }

  async loadMore(): Promise<void> {
    if (this.loading.value || this.done.value) return;
    const gen = this.generation;
    this.loading.value = true;
    try {
      const page = await fetchEvents(this.filters, this.next);
      if (gen !== this.generation) return;
      const seen = new Set(this.events.value.map((e) => e.id));
      this.events.value = [...this.events.value, ...page.events.filter((e) => !seen.has(e.id))];
      this.next = page.next;
      this.done.value = page.next === null;
      this.error.value = null;
    } catch (err) {
      if (gen === this.generation) this.error.value = `Could not load events: ${(err as Error).message}`;
    } finally {
      if (gen === this.generation) this.loading.value = false;
    }
  }

  /** A live change: updates a listed event in place, or prepends a new one that passes the filters. */
  apply(m: EventMessage): void {
    const list = this.events.value;
    const i = list.findIndex((e) => e.id === m.event.id);
    if (i >= 0) return this.replace(m.event);
    if (m.type !== 'opened' || !this.matches(m.event)) return;
    this.events.value = [m.event, ...list];
    if (list.length > 0) this.selected.value += 1;
    if (this.unreviewed.value !== null && !m.event.reviewed) this.unreviewed.value += 1;
  }

  replace(e: EventInfo): void {
    const before = this.events.value.find((x) => x.id === e.id);
    this.events.value = this.events.value.map((x) => (x.id === e.id ? e : x));
    if (before && this.unreviewed.value !== null && before.reviewed !== e.reviewed) this.unreviewed.value += e.reviewed ? -1 : 1;
  }

  remove(id: string): void {
    this.events.value = this.events.value.filter((e) => e.id !== id);
    this.selected.value = Math.min(this.selected.value, Math.max(0, this.events.value.length - 1));
  }

  current(): EventInfo | undefined {
    return this.events.value[this.selected.value];
  }

  /** Moves the selection; near the end of what is loaded, fetches the next page. */
  move(step: number): void {
    const n = this.events.value.length;
    if (n === 0) return;
    this.selected.value = Math.max(0, Math.min(n - 1, this.selected.value + step));
    if (this.selected.value >= n - 5) void this.loadMore();
  }

  private matches(e: EventInfo): boolean {
    const f = this.filters;
    if (f.camera && e.camera !== f.camera) return false;
    if (f.rule && e.rule !== f.rule) return false;
    if (f.severity && e.severity !== f.severity) return false;
    if (f.reviewed === 'true' || (f.verdict && f.verdict !== 'none')) return false; // a new event is unreviewed, without a verdict
    if (f.before !== undefined && e.startPdt >= f.before) return false;
    if (f.after !== undefined && e.startPdt < f.after) return false;
    return true;
  }
}
