// Field labels' help text and defaults come from the server's own schema (GET /api/openapi.json, the body of
// POST /api/rules, generated from config/rule.ts's RuleSchema), so the form's docs never drift from it.
import { signal } from '@preact/signals';
import { rulesApi, type JsonSchema } from './api.ts';

export interface FieldDoc {
  description: string;
  default?: unknown;
}

export const ruleSchema = signal<JsonSchema | null>(null);

let loading: Promise<void> | null = null;

export function loadRuleSchema(): Promise<void> {
  loading ??= rulesApi
    .openapi()
    .then((doc) => {
      const content = doc.paths['/api/rules']?.post?.requestBody?.content ?? {};
      ruleSchema.value = Object.values(content)[0]?.schema ?? null;
    })
    .catch(() => {
      loading = null;
    });
  return loading;
}

/** The object schema behind unions/optionals (`anyOf: [{...}, {nullable}]`). */
function unwrap(s: JsonSchema | undefined): JsonSchema | undefined {
  if (!s) return s;
  for (const alts of [s.anyOf, s.oneOf, s.allOf]) {
    const obj = alts?.find((a) => a.properties || a.items);
    if (obj) return { ...obj, description: s.description ?? obj.description, default: s.default ?? obj.default };
  }
  return s;
}

/** The description and default of a dotted path, e.g. "trigger.n" or "clip.frames". */
export function fieldDoc(root: JsonSchema | null, path: string): FieldDoc {
  let s: JsonSchema | undefined = root ?? undefined;
  for (const part of path.split('.')) {
    s = unwrap(s);
    s = s?.properties?.[part] ?? (typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined) ?? s?.items;
  }
  const desc = s?.description ?? unwrap(s)?.description ?? '';
  const def = s?.default !== undefined ? s.default : unwrap(s)?.default;
  return { description: desc, ...(def !== undefined ? { default: def } : {}) };
}
