// #/events: every stored event, newest first, across cameras and rules. Infinite scroll follows the API's
// cursor (an IntersectionObserver on a sentinel below the list), live `event` messages prepend, and the
// keyboard reviews (keyboard.ts). With a camera filter, the camera's 24 h strip sits on top.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { RuleInfo } from '../../../server/wire.ts';
import type { SocketProvider } from '../socket.ts';
import { fetchRules, query, reviewEvent, type EventFilters } from './api.ts';
import { DayPicker } from './day-picker.tsx';
import { EventList } from './event-list.ts';
import { EventRow } from './event-row.tsx';
import { Filters } from './filters.tsx';
import { addDays, dayStart } from './format.ts';
import { onReviewKey } from './keyboard.ts';
import { CameraStrip } from './strip.tsx';

export function TimelinePage({ socket, initial = {} }: { socket: SocketProvider; initial?: EventFilters }) {
  const list = useMemo(() => new EventList(), []);
  const [filters, setFilters] = useState<EventFilters>(initial);
  const [rules, setRules] = useState<RuleInfo[]>([]);
  const [status, setStatus] = useState<string | null>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const ul = useRef<HTMLUListElement>(null);

  useEffect(() => void fetchRules().then(setRules), []);
  useEffect(() => {
    void list.reset(filters);
    // The URL follows the filters (replaced, not pushed: Back leaves the timeline instead of undoing a filter).
    const q = query(filters);
    history.replaceState(null, '', `#/events${q ? `?${q}` : ''}`);
  }, [filters]);
  useEffect(() => socket.onEvent((m) => list.apply(m)), []);
  useEffect(() => {
    const obs = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && void list.loadMore(), { rootMargin: '400px' });
    if (sentinel.current) obs.observe(sentinel.current);
    return () => obs.disconnect();
  }, []);
  // The sentinel may still be in view after a page lands (short pages, tall screens): keep loading until it is not.
  const events = list.events.value;
  useEffect(() => {
    const el = sentinel.current;
    if (el && !list.done.value && el.getBoundingClientRect().top < innerHeight + 400) void list.loadMore();
  }, [events.length, list.loading.value]);

  const selected = list.selected.value;
  useEffect(() => {
    const row = ul.current?.children[selected] as HTMLElement | undefined;
    const active = document.activeElement as HTMLElement | null;
    // Focus follows the selection (visible focus ring), except while the operator types in a filter.
    if (row && !(active && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName))) row.focus({ preventScroll: true });
    row?.scrollIntoView({ block: 'nearest' });
  }, [selected, events[selected]?.id]);

  useEffect(() => {
    const onKey = (ev: KeyboardEvent) =>
      onReviewKey(ev, {
        move: (s) => list.move(s),
        current: () => list.current(),
        open: (e) => (location.hash = `#/events/${encodeURIComponent(e.id)}`),
        review: (e, r) => {
          list.replace({ ...e, ...r });
          reviewEvent(e.id, r).then(
            (saved) => list.replace(saved),
            (err: Error) => {
              list.replace(e);
              setStatus(`Could not save the review: ${err.message}`);
            },
          );
        },
      });
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const picked = filters.after !== undefined && filters.before !== undefined && addDays(filters.after, 1) === filters.before ? filters.after : null;
  const unreviewed = list.unreviewed.value;
  return (
    <section class="timeline">
      <header class="tl-head">
        <h2>Events</h2>
        <span class="tl-count" data-unreviewed={unreviewed ?? ''}>
          {unreviewed !== null ? `${unreviewed} unreviewed` : `${events.filter((e) => !e.reviewed).length} unreviewed loaded`}
        </span>
        <span class="tl-keys">j/k move · r reviewed · t/f true/false positive · Enter open</span>
      </header>
      <div class="tl-controls">
        <Filters filters={filters} rules={rules} onChange={setFilters} />
        <DayPicker filters={filters} picked={picked} onPick={(d) => setFilters({ ...filters, after: d ?? undefined, before: d === null ? undefined : addDays(d, 1) })} />
      </div>
      {filters.camera && <CameraStrip camera={filters.camera} day={picked ?? dayStart(Date.now())} />}
      {status && <p class="tl-error" role="alert">{status}</p>}
      {list.error.value && <p class="tl-error" role="alert">{list.error.value}</p>}
      <ul class="event-list" ref={ul}>
        {events.map((e, i) => (
          <EventRow key={e.id} event={e} selected={i === selected} onSelect={() => (list.selected.value = i)} />
        ))}
      </ul>
      <div ref={sentinel} class="tl-sentinel">
        {list.loading.value ? 'Loading…' : list.done.value ? (events.length ? 'No older events.' : 'No events match.') : ''}
      </div>
    </section>
  );
}
