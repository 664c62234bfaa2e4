// A month calendar with a dot on each day that has events (from /api/events/days); picking a day filters the
// timeline to it, picking it again clears the range.
import { useEffect, useState } from 'preact/hooks';
import { fetchDays, type DayCount, type EventFilters } from './api.ts';
import { addDays, dayKey, dayStart } from './format.ts';

interface Props {
  filters: EventFilters;
  /** Local midnight of the picked day, or null. */
  picked: number | null;
  onPick: (day: number | null) => void;
}

function monthStart(ms: number): number {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), 1).getTime();
}

export function DayPicker({ filters, picked, onPick }: Props) {
  const [month, setMonth] = useState(() => monthStart(picked ?? Date.now()));
  const [days, setDays] = useState<Map<string, DayCount>>(new Map());
  const end = monthStart(addDays(month, 32));
  useEffect(() => {
    let live = true;
    void fetchDays({ ...filters, after: undefined, before: undefined }, month, end).then((list) => live && setDays(new Map(list.map((d) => [d.day, d]))));
    return () => void (live = false);
  }, [month, filters.camera, filters.rule, filters.severity, filters.reviewed, filters.verdict]);
  const lead = (new Date(month).getDay() + 6) % 7; // weeks start on Monday
  const cells: (number | null)[] = Array.from({ length: lead }, () => null);
  for (let d = month; d < end; d = addDays(d, 1)) cells.push(d);
  const title = new Date(month).toLocaleDateString([], { month: 'long', year: 'numeric' });
  return (
    <div class="day-picker">
      <div class="dp-head">
        <button type="button" aria-label="previous month" onClick={() => setMonth(monthStart(addDays(month, -1)))}>‹</button>
        <span>{title}</span>
        <button type="button" aria-label="next month" onClick={() => setMonth(monthStart(addDays(month, 32)))}>›</button>
      </div>
      <div class="dp-grid">
        {['M', 'T', 'W', 'T', 'F', 'S', 'S'].map((d, i) => (
          <span class="dp-dow" key={`h${i}`}>{d}</span>
        ))}
        {cells.map((d, i) => {
          if (d === null) return <span key={`e${i}`} />;
          const info = days.get(dayKey(d));
          const isPicked = picked !== null && dayStart(picked) === d;
          return (
            <button
              type="button"
              key={d}
              class={`dp-day${info?.count ? ' has-events' : ''}${info?.unreviewed ? ' has-unreviewed' : ''}${isPicked ? ' picked' : ''}`}
              data-day={dayKey(d)}
              title={info ? `${info.count} events, ${info.unreviewed} unreviewed` : 'no events'}
              onClick={() => onPick(isPicked ? null : d)}
            >
              {new Date(d).getDate()}
            </button>
          );
        })}
      </div>
    </div>
  );
}
