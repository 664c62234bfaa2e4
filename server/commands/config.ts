// `vigil config schema|check`.
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { configJsonSchema } from '../../config/schema.ts';
import { loadConfig } from '../../config/load.ts';
import { redactUrls } from '../../config/redact.ts';

export function schema(opts: { out?: string }): void {
  const text = JSON.stringify(configJsonSchema(), null, 2) + '\n';
  if (opts.out) writeFileSync(opts.out, text);
  else process.stdout.write(text);
}

export function check(file?: string): void {
  const cfg = loadConfig(file ? { file } : {});
  process.stdout.write(redactUrls(stringify(cfg)));
}

interface JsonNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonNode>;
  items?: JsonNode;
  anyOf?: JsonNode[];
  minimum?: number;
  maximum?: number;
}

/** Markdown reference of every config field, generated from the one schema. */
export function configReference(): string {
  const rows: string[] = ['| key | type | default | description |', '|---|---|---|---|'];
  const walk = (node: JsonNode, path: string) => {
    if (node.properties) {
      if (path) rows.push(`| \`${path}\` | object | | ${node.description ?? ''} |`);
      for (const [k, v] of Object.entries(node.properties)) walk(v, path ? `${path}.${k}` : k);
      return;
    }
    if (node.items?.properties) {
      rows.push(`| \`${path}\` | list | \`${JSON.stringify(node.default ?? [])}\` | ${node.description ?? ''} |`);
      for (const [k, v] of Object.entries(node.items.properties)) walk(v, `${path}[].${k}`);
      return;
    }
    const type = node.enum ? node.enum.map((e) => `\`${String(e)}\``).join(' \\| ') : [node.type ?? 'any'].flat().join(' \\| ');
    const dflt = node.default === undefined ? '' : `\`${JSON.stringify(node.default)}\``;
    rows.push(`| \`${path}\` | ${type} | ${dflt} | ${(node.description ?? '').replace(/\|/g, '\\|')} |`);
  };
  walk(configJsonSchema() as JsonNode, '');
  return rows.join('\n') + '\n';
}

export function docs(opts: { out?: string }): void {
  const text = '# Configuration reference\n\nGenerated from `config/schema.ts` by `vigil config docs`; do not edit by hand.\n\n' + configReference();
  if (opts.out) writeFileSync(opts.out, text);
  else process.stdout.write(text);
}
