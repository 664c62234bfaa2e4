// The editor's draft: a rule as the API takes it (RuleSchema's input), edited by dotted path. What is sent is
// the draft minus the parts left empty, so the server's defaults apply and its 400 issues name the fields.
import type { Rule } from '../../../server/wire.ts';

export type Draft = Record<string, unknown>;

export const NEW_RULE: Draft = { id: '', kind: 'detect', question: '', cameras: 'all', severity: 'alert', enabled: true };

/** The form's fields, in order; a 400 issue is shown at the longest of these its path starts with. */
export const FIELDS = [
  'id', 'name', 'enabled', 'question', 'kind', 'attributes',
  'condition.answer', 'condition.op', 'condition.value', 'condition.min', 'condition.where', 'condition.contains', 'condition',
  'cameras', 'zones', 'anchor', 'schedule', 'every', 'clip.frames', 'clip.spacing', 'clip',
  'trigger.n', 'trigger.of', 'trigger', 'end.negatives', 'end.maxSeconds', 'end', 'cooldown', 'severity',
  'padding.pre', 'padding.post', 'padding', 'notify.channels', 'notify.minSeverity', 'notify.cooldown', 'notify',
] as const;

export function get(d: Draft, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), d);
}

/** A copy of `d` with `path` set (undefined removes it; parents are created, emptied parents dropped). */
export function set(d: Draft, path: string, value: unknown): Draft {
  const out = structuredClone(d);
  const keys = path.split('.');
  let o: Record<string, unknown> = out;
  for (const k of keys.slice(0, -1)) o = (o[k] && typeof o[k] === 'object' ? o[k] : (o[k] = {})) as Record<string, unknown>;
  const last = keys[keys.length - 1]!;
  if (value === undefined) delete o[last];
  else o[last] = value;
  return prune(out) as Draft;
}

function prune(v: unknown): unknown {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
  const o = v as Record<string, unknown>;
  for (const [k, x] of Object.entries(o)) {
    const p = prune(x);
    if (p === undefined || (p && typeof p === 'object' && !Array.isArray(p) && Object.keys(p).length === 0 && k !== 'condition')) delete o[k];
    else o[k] = p;
  }
  return o;
}

/** What POST /api/rules (or PUT) gets: the draft without empty optional parts. */
export function toBody(d: Draft): Draft {
  const body = structuredClone(d);
  if (body.name === '') delete body.name;
  if (Array.isArray(body.attributes) && body.attributes.length === 0) delete body.attributes;
  return prune(body) as Draft;
}

export function fromRule(rule: Rule): Draft {
  return structuredClone(rule) as unknown as Draft;
}

/** Issues keyed by the form field that shows them; those no field claims are under "". */
export function issuesByField(issues: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [raw, message] of Object.entries(issues)) {
    const path = raw.replace(/\[(\d+)\]/g, '.$1'); // the server writes indices as [i]: zones.gate[0][1]
    const field = FIELDS.find((f) => path === f || path.startsWith(`${f}.`)) ?? (FIELDS as readonly string[]).filter((f) => path.startsWith(f)).sort((a, b) => b.length - a.length)[0] ?? '';
    out[field] = out[field] ? `${out[field]}; ${message}` : message;
  }
  return out;
}

/** Field-by-field changes between two versions of a rule (dotted paths of leaves; arrays compared whole). */
export function diffRules(a: unknown, b: unknown, prefix = ''): { path: string; from: unknown; to: unknown }[] {
  const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diffRules(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ path: prefix, from: a, to: b }];
}
