// The timeline's filter bar: camera, rule, severity, reviewed, verdict, and a from/to date range (the day picker
// sets both to one day).
import type { RuleInfo } from '../../../server/wire.ts';
import { cameras } from '../page.tsx';
import type { EventFilters } from './api.ts';
import { addDays, dayKey, parseDayKey } from './format.ts';

interface Props {
  filters: EventFilters;
  rules: RuleInfo[];
  onChange: (f: EventFilters) => void;
}

type Key = 'camera' | 'rule' | 'severity' | 'reviewed' | 'verdict';

export function Filters({ filters, rules, onChange }: Props) {
  const set = (k: Key) => (ev: Event) => onChange({ ...filters, [k]: (ev.currentTarget as HTMLSelectElement).value || undefined });
  const setDate = (k: 'after' | 'before') => (ev: Event) => {
    const day = parseDayKey((ev.currentTarget as HTMLInputElement).value);
    // The API's range is [after, before): "to" includes the whole day picked.
    onChange({ ...filters, [k]: day === null ? undefined : k === 'before' ? addDays(day, 1) : day });
  };
  const select = (k: Key, label: string, options: [string, string][]) => (
    <label>
      <span>{label}</span>
      <select name={k} value={filters[k] ?? ''} onChange={set(k)}>
        <option value="">all</option>
        {options.map(([v, t]) => (
          <option value={v} key={v}>{t}</option>
        ))}
      </select>
    </label>
  );
  return (
    <form class="filters" onSubmit={(e) => e.preventDefault()}>
      {select('camera', 'Camera', cameras.value.map((c) => [c.id, c.name]))}
      {select('rule', 'Rule', rules.map((r) => [r.rule.id, r.rule.name ?? r.rule.id]))}
      {select('severity', 'Severity', [['alert', 'alert'], ['detection', 'detection']])}
      {select('reviewed', 'Reviewed', [['false', 'unreviewed'], ['true', 'reviewed']])}
      {select('verdict', 'Verdict', [['true-positive', 'true positive'], ['false-positive', 'false positive'], ['none', 'no verdict']])}
      <label>
        <span>From</span>
        <input type="date" name="from" value={filters.after !== undefined ? dayKey(filters.after) : ''} onChange={setDate('after')} />
      </label>
      <label>
        <span>To</span>
        <input type="date" name="to" value={filters.before !== undefined ? dayKey(filters.before - 1) : ''} onChange={setDate('before')} />
      </label>
    </form>
  );
}
