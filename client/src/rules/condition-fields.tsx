// The condition's fields offered for the chosen kind only (the schema refuses the others for that kind).
import { COMPARISONS_UI } from './choices.ts';
import { Field, ListInput, NumberInput, Select } from './fields.tsx';
import { get, type Draft } from './form-model.ts';

export interface SectionProps {
  draft: Draft;
  set: (path: string, v: unknown) => void;
  errors: Record<string, string>;
}

export function ConditionFields({ draft, set, errors }: SectionProps) {
  const kind = draft.kind as string;
  const f = (p: string) => get(draft, p);
  const objects = kind === 'detect' || kind === 'point' || kind === 'count';
  return (
    <fieldset class="condition" data-field="condition">
      <legend>Condition</legend>
      {errors['condition'] && <span class="field-error">{errors['condition']}</span>}
      {kind === 'yesno' && (
        <Field path="condition.answer" label="Positive answer" error={errors['condition.answer']}>
          <Select value={f('condition.answer')} options={['yes', 'no']} unset="(default)" onChange={(v) => set('condition.answer', v)} />
        </Field>
      )}
      {kind === 'count' && (
        <>
          <Field path="condition.op" label="Comparison" error={errors['condition.op']}>
            <Select value={f('condition.op')} options={COMPARISONS_UI} unset="(default)" onChange={(v) => set('condition.op', v)} />
          </Field>
          <Field path="condition.value" label="Value" error={errors['condition.value']}>
            <NumberInput value={f('condition.value')} onChange={(v) => set('condition.value', v)} />
          </Field>
        </>
      )}
      {(kind === 'detect' || kind === 'point') && (
        <Field path="condition.min" label="At least" error={errors['condition.min']}>
          <NumberInput step="1" value={f('condition.min')} onChange={(v) => set('condition.min', v)} />
        </Field>
      )}
      {objects && (
        <Field path="condition.where" label="Where (attribute=value, …)" error={errors['condition.where']}>
          <WhereInput value={f('condition.where') as Record<string, unknown> | undefined} onChange={(v) => set('condition.where', v)} />
        </Field>
      )}
      {kind === 'describe' && (
        <Field path="condition.contains" label="Contains any of (comma-separated)" error={errors['condition.contains']}>
          <ListInput value={f('condition.contains')} onChange={(v) => set('condition.contains', v)} />
        </Field>
      )}
    </fieldset>
  );
}

/** "helmet=false, colour=red": booleans and numbers as such, the rest as strings. */
function WhereInput({ value, onChange }: { value: Record<string, unknown> | undefined; onChange: (v: Record<string, unknown> | undefined) => void }) {
  const text = value ? Object.entries(value).map(([k, v]) => `${k}=${String(v)}`).join(', ') : '';
  const parse = (s: string) => (s === 'true' ? true : s === 'false' ? false : s !== '' && !Number.isNaN(Number(s)) ? Number(s) : s);
  return (
    <input
      type="text"
      value={text}
      placeholder="helmet=false"
      onChange={(e) => {
        const pairs = (e.currentTarget as HTMLInputElement).value.split(',').map((p) => p.trim()).filter(Boolean);
        const out = Object.fromEntries(pairs.map((p) => [p.split('=')[0]!.trim(), parse(p.slice(p.indexOf('=') + 1).trim())]));
        onChange(pairs.length ? out : undefined);
      }}
    />
  );
}
