// RuleCatalog: the rules the API may change, on top of the store's rule repository. Every write is
// validated with the one rule schema (config/rule.ts) and against the configured cameras before anything
// is stored, rules provisioned by the config file stay read-only, writes are serialized (two creates of
// one id cannot both succeed), and after each change the loop gets the enabled rules.
import { RuleSchema, checkRuleCameras, type Rule } from '../../config/rule.ts';
import { checkRuleChannels } from '../../config/notify.ts';
import type { ActiveRule } from '../../pipelines/rules/types.ts';
import type { Logger } from '../log.ts';
import { Errors, invalid } from '../http/errors.ts';
import { dotPath, zodIssues } from '../http/validate.ts';
import type { RuleRepository, StoredRule } from './ports.ts';

export interface CameraRef {
  id: string;
  sampleInterval: number;
}

export interface RuleCatalogDeps {
  repo: RuleRepository;
  /** The configured cameras (rules may only name these). */
  cameras: () => readonly CameraRef[];
  /** The configured notification channels (rules may only name these; default none). */
  channels?: () => ReadonlyArray<{ id: string }>;
  /** Receives the enabled rules after every change (the rule loop; none when the server runs without one). */
  apply: (rules: ActiveRule[]) => unknown;
  log: Logger;
}

export class RuleCatalog {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: RuleCatalogDeps) {}

  list(): Promise<StoredRule[]> {
    return this.d.repo.list();
  }

  async get(id: string): Promise<StoredRule> {
    const found = await this.d.repo.get(id);
    if (!found) throw Errors.NOT_FOUND(`no rule "${id}"`);
    return found;
  }

  async versions(id: string): Promise<StoredRule[]> {
    await this.get(id);
    return this.d.repo.versions(id);
  }

  /** Parses and checks a rule as the API receives it; throws INVALID naming each path and reason. */
  validate(input: unknown): Rule {
    const parsed = RuleSchema.safeParse(input);
    if (!parsed.success) throw invalid('invalid rule', zodIssues(parsed.error));
    const issues = [...checkRuleCameras(parsed.data, this.d.cameras()), ...checkRuleChannels(parsed.data, this.d.channels?.() ?? [])].map((i) => ({ path: dotPath(i.path), message: i.message }));
    if (issues.length) throw invalid('invalid rule', issues);
    return parsed.data;
  }

  create(input: unknown, author: string): Promise<StoredRule> {
    const rule = this.validate(input);
    return this.serial(async () => {
      const existing = await this.d.repo.get(rule.id);
      if (existing) throw Errors.CONFLICT(`rule "${rule.id}" exists (version ${existing.version}): change it with PUT /api/rules/${rule.id}`);
      return this.d.repo.save(rule, 'api', author);
    });
  }

  /** A new version of an API rule; the id in the body, when given, must be the one in the URL. */
  replace(id: string, input: unknown, author: string): Promise<StoredRule> {
    const body = typeof input === 'object' && input !== null && !Array.isArray(input) ? input : {};
    if ('id' in body && body.id !== id) throw invalid('invalid rule', [{ path: 'id', message: `must be "${id}" (the rule in the URL); to rename, create the new id and delete this one` }]);
    const rule = this.validate({ ...body, id });
    return this.serial(async () => {
      await this.writable(id);
      return this.d.repo.save(rule, 'api', author);
    });
  }

  remove(id: string): Promise<void> {
    return this.serial(async () => {
      await this.writable(id);
      await this.d.repo.remove(id);
    });
  }

  /** Brings the config file's rules into the store (new versions where changed); an id an API rule holds is reported and skipped. */
  async provision(rules: Rule[]): Promise<void> {
    const { conflicts } = await this.d.repo.syncProvisioned(rules);
    for (const id of conflicts) {
      this.d.log.error({ rule: id }, `config rule "${id}" is ignored: an API rule has this id; delete it (DELETE /api/rules/${id}) or rename the config rule`);
    }
    await this.apply();
  }

  /** Hands the enabled rules (latest versions) to the loop. */
  async apply(): Promise<void> {
    const rules = await this.d.repo.list();
    this.d.apply(rules.filter((r) => r.rule.enabled).map(({ rule, version }) => ({ rule, version })));
  }

  private async writable(id: string): Promise<StoredRule> {
    const found = await this.get(id);
    if (found.source === 'config') throw Errors.RULE_PROVISIONED(id);
    return found;
  }

  /** Runs one change at a time, then refreshes the loop's rules (a failed refresh is logged; the change stands). */
  private serial<T>(change: () => Promise<T>): Promise<T> {
    const run = this.queue.then(change).catch((err: unknown) => {
      throw storeRefusal(err) ?? err;
    });
    this.queue = run.then(
      () => this.apply().catch((err: unknown) => this.d.log.error({ err }, 'could not hand the changed rules to the loop')),
      () => undefined,
    );
    return run.then(async (v) => {
      await this.queue;
      return v;
    });
  }
}

/** The store's own refusals (a race with the checks above) as API errors. */
function storeRefusal(err: unknown): Error | null {
  const e = err as { code?: unknown; ruleId?: unknown; message?: unknown };
  if (e?.code === 'RULE_PROVISIONED') return Errors.RULE_PROVISIONED(String(e.ruleId));
  if (e?.code === 'RULE_NOT_PROVISIONED') return Errors.CONFLICT(String(e.message));
  return null;
}
