// A camera's day on one axis: the events as bars (click opens one) over the recording's extent, so an operator
// sees when things happened and where video exists. The day scrolls sideways inside its own box (the page never does).
import { useEffect, useState } from 'preact/hooks';
import type { EventInfo } from '../../../server/wire.ts';
import { fetchEvents, fetchRecordings, type Range } from './api.ts';
import { cameraName } from './event-row.tsx';
import { addDays, clock, dayKey } from './format.ts';

/** Every event of `camera` that started in [from, to), newest first (a day rarely holds more than a few pages). */
async function dayEvents(camera: string, from: number, to: number): Promise<EventInfo[]> {
  const out: EventInfo[] = [];
  let cursor: string | null = null;
  do {
    const page = await fetchEvents({ camera, after: from, before: to }, cursor, 500);
    out.push(...page.events);
    cursor = page.next;
  } while (cursor && out.length < 5000);
  return out;
}

interface Props {
  camera: string;
  /** Local midnight of the day shown. */
  day: number;
  /** Day navigation; absent: the strip follows `day` only. */
  onDay?: (day: number) => void;
}

export function CameraStrip({ camera, day, onDay }: Props) {
  const [events, setEvents] = useState<EventInfo[]>([]);
  const [ranges, setRanges] = useState<Range[]>([]);
  const end = addDays(day, 1);
  useEffect(() => {
    let live = true;
    void dayEvents(camera, day, end).then((e) => live && setEvents(e), () => live && setEvents([]));
    void fetchRecordings(camera, day, end).then((r) => live && setRanges(r));
    return () => void (live = false);
  }, [camera, day]);
  const span = end - day;
  const pos = (from: number, to: number) => {
    const a = Math.max(from, day);
    const b = Math.min(to, end);
    return { left: `${((a - day) / span) * 100}%`, width: `max(3px, ${((b - a) / span) * 100}%)` };
  };
  return (
    <div class="strip" data-camera={camera} data-day={dayKey(day)}>
      <div class="strip-head">
        <strong>{cameraName(camera)}</strong>
        {onDay && <button type="button" onClick={() => onDay(addDays(day, -1))}>‹ day</button>}
        <span>{new Date(day).toLocaleDateString([], { weekday: 'short', month: 'short', day: 'numeric' })}</span>
        {onDay && <button type="button" onClick={() => onDay(addDays(day, 1))}>day ›</button>}
        <span class="strip-legend">
          <i class="rec-swatch" /> recorded · {events.length} events
        </span>
      </div>
      <div class="strip-scroll">
        <div class="strip-axis">
          {Array.from({ length: 24 }, (_, h) => (
            <span class="strip-hour" key={h} style={{ left: `${(h / 24) * 100}%` }}>{String(h).padStart(2, '0')}</span>
          ))}
          <div class="strip-track">
            {ranges.map((r) => (
              <span class="rec-range" key={r.from} data-from={r.from} data-to={r.to} style={pos(r.from, r.to)} title={`recorded ${clock(r.from)} – ${clock(r.to)}`} />
            ))}
            {events.map((e) => (
              <a
                class={`strip-event sev-${e.severity}`}
                key={e.id}
                data-id={e.id}
                href={`#/events/${encodeURIComponent(e.id)}`}
                style={pos(e.startPdt, e.endPdt ?? Date.now())}
                title={`${e.ruleName} at ${clock(e.startPdt)}`}
              />
            ))}
          </div>
        </div>
      </div>
    </div>
  );
}
