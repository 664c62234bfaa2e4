// The rules pages' calls to /api: every failure comes back as the server's own ErrorBody, so a form can show
// each `issues[]` entry at the field its path names.
import type { ErrorBody, EventInfo, RuleInfo, RuleTestInfo } from '../../../server/wire.ts';

export type Issues = Record<string, string>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody['error'],
  ) {
    super(body.message);
  }
  /** The 400's issues keyed by dotted path ("trigger.n"); the message alone under "" when it names none. */
  issues(): Issues {
    const out: Issues = {};
    for (const i of this.body.issues ?? []) out[i.path] = out[i.path] ? `${out[i.path]}; ${i.message}` : i.message;
    if (!this.body.issues?.length) out[''] = this.body.message;
    return out;
  }
}

async function call<T>(method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    cache: 'no-store',
    credentials: 'same-origin',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw new ApiError(res.status, (data as ErrorBody | null)?.error ?? { status: res.status, code: 'HTTP', message: `${res.status} ${res.statusText}` });
  return data as T;
}

const enc = encodeURIComponent;

export const rulesApi = {
  list: () => call<RuleInfo[]>('GET', '/api/rules'),
  get: (id: string) => call<RuleInfo>('GET', `/api/rules/${enc(id)}`),
  versions: (id: string) => call<RuleInfo[]>('GET', `/api/rules/${enc(id)}/versions`),
  create: (rule: unknown) => call<RuleInfo>('POST', '/api/rules', rule),
  replace: (id: string, rule: unknown) => call<RuleInfo>('PUT', `/api/rules/${enc(id)}`, rule),
  test: (rule: unknown, camera: string) => call<RuleTestInfo>('POST', '/api/rules/test', { rule, camera }),
  events24h: (rule: string) => call<{ events: EventInfo[]; next?: string | null }>('GET', `/api/events?rule=${enc(rule)}&after=${Date.now() - 86_400_000}&limit=500`),
  openapi: () => call<OpenApiDoc>('GET', '/api/openapi.json'),
  metrics: async (): Promise<string> => {
    const res = await fetch('/metrics', { cache: 'no-store', credentials: 'same-origin' });
    return res.ok ? res.text() : '';
  },
  uptime: () => call<{ uptimeSeconds: number }>('GET', '/api/health'),
};

export interface OpenApiDoc {
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: JsonSchema }> } }>>;
}

export interface JsonSchema {
  description?: string;
  default?: unknown;
  type?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
  enum?: unknown[];
}
