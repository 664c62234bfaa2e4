// Weekly windows in which the rule runs (none: always), with an optional IANA time zone.
import { WEEKDAYS_UI } from './choices.ts';
import { Field, TextInput } from './fields.tsx';

interface Window {
  days?: string[];
  start: string;
  end: string;
}
interface Schedule {
  timezone?: string;
  windows: Window[];
}

export function ScheduleField({ value, onChange, error }: { value: Schedule | undefined; onChange: (s: Schedule | undefined) => void; error?: string | undefined }) {
  const windows = value?.windows ?? [];
  const put = (w: Window[], tz = value?.timezone) => onChange(w.length ? { ...(tz ? { timezone: tz } : {}), windows: w } : undefined);
  const edit = (i: number, patch: Partial<Window>) => put(windows.map((w, j) => (j === i ? { ...w, ...patch } : w)));
  return (
    <Field path="schedule" label="Schedule" error={error} group>
      <div class="schedule">
        {windows.length === 0 && <span class="muted">Always (no windows).</span>}
        {windows.map((w, i) => (
          <div class="window row">
            {WEEKDAYS_UI.map((d) => (
              <label class="day">
                <input
                  type="checkbox"
                  checked={(w.days ?? WEEKDAYS_UI).includes(d)}
                  onChange={(e) => {
                    const on = (e.currentTarget as HTMLInputElement).checked;
                    const days = (w.days ?? [...WEEKDAYS_UI]).filter((x) => x !== d).concat(on ? [d] : []);
                    edit(i, { days: WEEKDAYS_UI.filter((x) => days.includes(x)) });
                  }}
                />
                {d}
              </label>
            ))}
            <input type="text" class="hhmm" aria-label="start" value={w.start} onChange={(e) => edit(i, { start: (e.currentTarget as HTMLInputElement).value })} />
            –
            <input type="text" class="hhmm" aria-label="end" value={w.end} onChange={(e) => edit(i, { end: (e.currentTarget as HTMLInputElement).value })} />
            <button type="button" onClick={() => put(windows.filter((_, j) => j !== i))}>
              Remove
            </button>
          </div>
        ))}
        <div class="row">
          <button type="button" onClick={() => put([...windows, { start: '08:00', end: '18:00' }])}>
            Add window
          </button>
          {windows.length > 0 && <TextInput value={value?.timezone} placeholder="time zone, e.g. Europe/Berlin" onChange={(tz) => put(windows, tz || undefined)} />}
        </div>
      </div>
    </Field>
  );
}
