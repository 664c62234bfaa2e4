// `vigil rules list`: the rules of the config file and of the store (id, kind, cameras, version, source, enabled).
// `vigil rules test <id> | --rule-file r.yaml`: runs a rule once on a camera's newest frame through a running
// Vigil (POST /api/rules/:id/test or /api/rules/test), or with `--image frame.jpg` locally through the configured
// engine without a server. Prints the parsed answer and whether it counts as positive. A rule file that fails the
// rule schema prints each path and reason and exits 2; a server that refuses exits 1 with its message.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { parseDocument } from 'yaml';
import { loadConfig } from '../../config/load.ts';
import { RuleSchema, checkRuleCameras, type Rule } from '../../config/rule.ts';
import { checkRuleChannels } from '../../config/notify.ts';
import type { VigilConfig } from '../../config/schema.ts';
import { openSqliteStore, storeFileIn } from '../../pipelines/store/index.ts';
import { canonicalJson } from '../../pipelines/store/rules.ts';
import type { ErrorBody, RuleInfo, RuleTestInfo } from '../wire.ts';
import { dotPath } from '../http/validate.ts';

export interface ListOptions {
  config?: string;
  json?: boolean;
}

export interface TestOptions {
  config?: string;
  camera?: string;
  ruleFile?: string;
  url?: string;
  image?: string;
  out?: string;
}

/** A refusal the user can fix from the message: printed without a stack, with this exit code. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export async function list(opts: ListOptions): Promise<void> {
  const config = loadConfig(opts.config ? { file: opts.config } : {});
  const rows = mergeRules(config, await storedRules(config));
  if (opts.json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    return;
  }
  if (rows.length === 0) {
    console.log('no rules: add some under `rules:` in the config file, or POST /api/rules on a running Vigil');
    return;
  }
  const table = [['ID', 'KIND', 'CAMERAS', 'VERSION', 'SOURCE', 'ENABLED'], ...rows.map((r) => [r.rule.id, r.rule.kind, cameraList(r.rule), r.version === null ? '-' : String(r.version), r.source, r.rule.enabled ? 'yes' : 'no'])];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  for (const row of table) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
}

export async function test(id: string | undefined, opts: TestOptions): Promise<void> {
  try {
    const config = loadConfig(opts.config ? { file: opts.config } : {});
    if ((id === undefined) === (opts.ruleFile === undefined)) throw new UsageError('give a rule id or --rule-file <file> (one of them)', 2);
    const fileRule = opts.ruleFile ? readRuleFile(opts.ruleFile, config) : null;
    const result = opts.image ? await testLocally(config, fileRule ?? (await savedRule(config, id!)), opts.image) : await testOnServer(config, id, fileRule, opts);
    report(result, opts);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`vigil rules test: ${err.message}`);
    process.exitCode = err.exitCode;
  }
}

interface ListedRule {
  rule: Rule;
  /** null: in the config file but not yet in the store (Vigil has not started with it). */
  version: number | null;
  source: 'config' | 'api';
}

/** Store rules as stored; config file rules the store does not have yet (or has changed since) as the file says. */
function mergeRules(config: Readonly<VigilConfig>, stored: RuleInfo[]): ListedRule[] {
  const byId = new Map<string, ListedRule>(stored.map((s) => [s.rule.id, { rule: s.rule, version: s.version, source: s.source }]));
  for (const rule of config.rules) {
    const s = byId.get(rule.id);
    if (!s || (s.source === 'config' && canonicalJson(s.rule) !== canonicalJson(rule))) byId.set(rule.id, { rule, version: null, source: 'config' });
  }
  return [...byId.values()].sort((a, b) => a.rule.id.localeCompare(b.rule.id));
}

async function storedRules(config: Readonly<VigilConfig>): Promise<RuleInfo[]> {
  const file = storeFileIn(config.server.dataDir);
  if (!existsSync(file)) return []; // never create a store just to list it
  const store = await openSqliteStore({ file, dataDir: config.server.dataDir });
  try {
    return await store.rules.list();
  } finally {
    await store.close();
  }
}

async function savedRule(config: Readonly<VigilConfig>, id: string): Promise<Rule> {
  const found = mergeRules(config, await storedRules(config)).find((r) => r.rule.id === id);
  if (!found) throw new UsageError(`no rule "${id}" in the config file or the store (vigil rules list shows them)`, 2);
  return found.rule;
}

/** Reads one rule (YAML or JSON) and checks it like the API does; every failing path and reason, exit 2. */
function readRuleFile(file: string, config: Readonly<VigilConfig>): Rule {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? err})`, 2);
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) throw new UsageError(`${file}: not YAML: ${doc.errors[0]!.message.split('\n')[0]}`, 2);
  const parsed = RuleSchema.safeParse(doc.toJS());
  const issues = parsed.success ? [...checkRuleCameras(parsed.data, config.cameras), ...checkRuleChannels(parsed.data, config.notify.channels)] : parsed.error.issues;
  if (issues.length) throw new UsageError(`${file}: invalid rule\n${issues.map((i) => `  - ${dotPath(i.path) || '(root)'}: ${i.message}`).join('\n')}`, 2);
  return parsed.data!;
}

async function testOnServer(config: Readonly<VigilConfig>, id: string | undefined, rule: Rule | null, opts: TestOptions): Promise<RuleTestInfo> {
  const base = opts.url ?? `http://${urlHost(config.server.host)}:${config.server.port}/`;
  const path = rule ? '/api/rules/test' : `/api/rules/${encodeURIComponent(id!)}/test`;
  const body = rule ? { rule, ...(opts.camera ? { camera: opts.camera } : {}) } : opts.camera ? { camera: opts.camera } : {};
  let res: Response;
  try {
    // With auth on, an API token of an operator or admin: VIGIL_TOKEN (never a flag: flags show in `ps`).
    const token = process.env.VIGIL_TOKEN;
    res = await fetch(new URL(path, base), { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  } catch (err) {
    throw new UsageError(`no Vigil answers at ${base} (${(err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message}): start it with \`vigil serve\`, pass --url, or use --image <frame.jpg> to run the rule locally`, 1);
  }
  const answer = (await res.json().catch(() => null)) as RuleTestInfo | ErrorBody | null;
  if (!res.ok || !answer || 'error' in answer) {
    const e = answer && 'error' in answer ? answer.error : { code: String(res.status), message: res.statusText, issues: undefined };
    const hint = res.status === 401 ? ' (auth is on: set VIGIL_TOKEN to an operator API token, made with POST /api/tokens)' : '';
    throw new UsageError(`[${e.code}] ${e.message}${hint}`, res.status === 400 ? 2 : 1);
  }
  return answer;
}

async function testLocally(config: Readonly<VigilConfig>, rule: Rule, imagePath: string): Promise<RuleTestInfo> {
  let input: Buffer;
  try {
    input = readFileSync(imagePath);
  } catch (err) {
    throw new UsageError(`cannot read image ${imagePath} (${(err as NodeJS.ErrnoException).code ?? err})`, 2);
  }
  // Loaded on use: `vigil rules list` never loads an engine.
  const [{ createEngine }, { prepareImage }, { testRule }] = await Promise.all([
    import('../../pipelines/engine/create.ts'),
    import('../../pipelines/vlm/image.ts'),
    import('../../pipelines/rules/rule-test.ts'),
  ]);
  const engine = await createEngine(config.engine);
  try {
    await engine.start();
    const prepared = await prepareImage(input, engine.info);
    const frame = { camera: 'image', run: 0, seq: 0, pts: 0, pdt: Date.now(), jpeg: prepared.image.jpeg, width: prepared.sent.width, height: prepared.sent.height, sourceW: prepared.source.width, sourceH: prepared.source.height };
    const r = await testRule(engine, rule, [frame]);
    return { camera: imagePath, pdt: frame.pdt, ...r, reason: r.reason ?? null, annotated: `data:image/jpeg;base64,${r.annotated.toString('base64')}` };
  } finally {
    await engine.close();
  }
}

/** Prints the answer as JSON (the annotated frame goes to a file) and a one-line verdict on stderr. */
function report(r: RuleTestInfo, opts: TestOptions): void {
  const out = opts.out ?? (opts.image ? join(dirname(opts.image), `${basename(opts.image, extname(opts.image))}.annotated.jpg`) : undefined);
  if (out) writeFileSync(out, Buffer.from(r.annotated.slice(r.annotated.indexOf(',') + 1), 'base64'));
  const { annotated: _picture, ...rest } = r;
  process.stdout.write(JSON.stringify({ ...rest, ...(out ? { annotated: out } : {}) }, null, 2) + '\n');
  const what = r.answer ?? (r.count !== null ? `${r.count} found` : `${r.boxes.length} boxes, ${r.points.length} points`);
  console.error(`${r.positive ? 'POSITIVE' : r.outcome.toUpperCase()}: ${what}${r.reason ? ` (${r.reason})` : ''}`);
}

function cameraList(rule: Rule): string {
  return rule.cameras === 'all' ? 'all' : rule.cameras.join(',');
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
