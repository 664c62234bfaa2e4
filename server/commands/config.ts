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
