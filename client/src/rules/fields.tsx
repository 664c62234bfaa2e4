// One labelled form field: the schema's description and default as help, the server's 400 message beneath it.
import type { ComponentChildren } from 'preact';
import { fieldDoc, ruleSchema } from './schema-docs.ts';

export interface FieldProps {
  path: string;
  label: string;
  error?: string | undefined;
  /** Several controls (no single <label> around them). */
  group?: boolean;
  children: ComponentChildren;
}

export function Field({ path, label, error, group, children }: FieldProps) {
  const doc = fieldDoc(ruleSchema.value, path);
  const Wrap = group ? 'div' : 'label';
  return (
    <div class={`field${error ? ' invalid' : ''}`} data-field={path}>
      <Wrap>
        <span class="field-label">{label}</span>
        {children}
      </Wrap>
      {(doc.description || doc.default !== undefined) && (
        <small class="field-help">
          {doc.description}
          {doc.default !== undefined && <span class="field-default"> Default: {JSON.stringify(doc.default)}.</span>}
        </small>
      )}
      {error && (
        <span class="field-error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

/** A number input bound to an optional number: empty is undefined (the schema's default applies). */
export function NumberInput({ value, onChange, step }: { value: unknown; onChange: (v: number | undefined) => void; step?: string }) {
  return (
    <input
      type="number"
      step={step ?? 'any'}
      value={typeof value === 'number' ? String(value) : ''}
      onInput={(e) => {
        const s = (e.currentTarget as HTMLInputElement).value;
        onChange(s === '' ? undefined : Number(s));
      }}
    />
  );
}

export function TextInput({ value, onChange, placeholder }: { value: unknown; onChange: (v: string) => void; placeholder?: string }) {
  return <input type="text" value={typeof value === 'string' ? value : ''} placeholder={placeholder} onInput={(e) => onChange((e.currentTarget as HTMLInputElement).value)} />;
}

/** A select whose first option ("default") leaves the field unset. */
export function Select({ value, options, onChange, unset }: { value: unknown; options: readonly string[]; onChange: (v: string | undefined) => void; unset?: string }) {
  return (
    <select value={typeof value === 'string' ? value : ''} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value || undefined)}>
      {unset !== undefined && <option value="">{unset}</option>}
      {options.map((o) => (
        <option value={o}>{o}</option>
      ))}
    </select>
  );
}

/** A comma-separated list bound to a string array (empty: undefined). */
export function ListInput({ value, onChange, placeholder }: { value: unknown; onChange: (v: string[] | undefined) => void; placeholder?: string }) {
  const text = Array.isArray(value) ? value.join(', ') : '';
  return (
    <input
      type="text"
      value={text}
      placeholder={placeholder}
      onChange={(e) => {
        const items = (e.currentTarget as HTMLInputElement).value.split(',').map((s) => s.trim()).filter(Boolean);
        onChange(items.length ? items : undefined);
      }}
    />
  );
}
