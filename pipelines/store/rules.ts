// Versioned rules over any Kysely database. Every change of a rule's body is a new version in `rule_versions`
// (events keep the version they fired under); `rules` holds each id's current version, its owner and whether it
// was removed. Two owners never share an id: `config` rules come from the YAML file (read-only through the API,
// like Grafana's provisioned dashboards), `api` rules from /api/rules.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Rule } from '../../config/rule.ts';
import type { RuleVersionsTable, StoreSchema } from './schema.ts';

export type RuleSource = 'config' | 'api';

export interface StoredRule {
  rule: Rule;
  version: number;
  source: RuleSource;
  /** Wall-clock ms when this version was written. */
  updatedAt: number;
  author: string;
}

export type RuleStoreErrorCode = 'RULE_PROVISIONED' | 'RULE_NOT_PROVISIONED';

export class RuleStoreError extends Error {
  constructor(
    readonly code: RuleStoreErrorCode,
    readonly ruleId: string,
    message: string,
  ) {
    super(message);
    this.name = 'RuleStoreError';
  }
}

type Trx = Transaction<StoreSchema>;

export class KyselyRuleRepository {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  /** Every rule not removed, by id. */
  async list(): Promise<StoredRule[]> {
    const rows = await this.#current().where('rules.removed', '=', 0).orderBy('rules.id').execute();
    return rows.map(toStored);
  }

  /** The current version of a rule; null when unknown or removed. */
  async get(id: string): Promise<StoredRule | null> {
    const row = await this.#current().where('rules.removed', '=', 0).where('rules.id', '=', id).executeTakeFirst();
    return row ? toStored(row) : null;
  }

  /** Every version of a rule, oldest first (also of a removed rule: its events point at them). */
  async versions(id: string): Promise<StoredRule[]> {
    const rows = await this.db.selectFrom('rule_versions').selectAll().where('rule', '=', id).orderBy('version').execute();
    return rows.map(toStored);
  }

  /**
   * Makes `rule` the current version of its id: a new version when the body or the owner changed, the same version
   * when identical. Refuses (RuleStoreError) an api write over a config rule and a config write over an api rule.
   */
  save(rule: Rule, source: RuleSource, author: string): Promise<StoredRule> {
    return this.db.transaction().execute((trx) => saveIn(trx, rule, source, author));
  }

  /** Removes an api rule (its versions stay); false when there is no such rule. Refuses a config rule. */
  remove(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const head = await trx.selectFrom('rules').selectAll().where('id', '=', id).executeTakeFirst();
      if (!head || head.removed) return false;
      if (head.source === 'config') throw provisioned(id);
      await trx.updateTable('rules').set({ removed: 1 }).where('id', '=', id).execute();
      return true;
    });
  }

  /**
   * Brings the config file's rules in, in one transaction: new versions where changed, config rules no longer in the
   * file marked removed. A config rule whose id an api rule holds is skipped and returned in `conflicts` (the rest
   * still apply, so one clash does not stop the others); the caller reports them.
   */
  syncProvisioned(rules: Rule[], author = 'config'): Promise<{ conflicts: string[] }> {
    return this.db.transaction().execute(async (trx) => {
      const conflicts: string[] = [];
      for (const rule of rules) {
        try {
          await saveIn(trx, rule, 'config', author);
        } catch (err) {
          if (!(err instanceof RuleStoreError)) throw err;
          conflicts.push(rule.id);
        }
      }
      const keep = rules.map((r) => r.id);
      let gone = trx.updateTable('rules').set({ removed: 1 }).where('source', '=', 'config').where('removed', '=', 0);
      if (keep.length) gone = gone.where('id', 'not in', keep);
      await gone.execute();
      return { conflicts };
    });
  }

  #current() {
    return this.db
      .selectFrom('rules')
      .innerJoin('rule_versions', (j) => j.onRef('rule_versions.rule', '=', 'rules.id').onRef('rule_versions.version', '=', 'rules.version'))
      .selectAll('rule_versions');
  }
}

async function saveIn(trx: Trx, rule: Rule, source: RuleSource, author: string): Promise<StoredRule> {
  const head = await trx.selectFrom('rules').selectAll().where('id', '=', rule.id).executeTakeFirst();
  if (head && !head.removed && head.source !== source) throw head.source === 'config' ? provisioned(rule.id) : owned(rule.id);
  const body = canonicalJson(rule);
  if (head) {
    const cur = await trx.selectFrom('rule_versions').selectAll().where('rule', '=', rule.id).where('version', '=', head.version).executeTakeFirstOrThrow();
    if (cur.body === body && cur.source === source) {
      if (head.removed) await trx.updateTable('rules').set({ removed: 0 }).where('id', '=', rule.id).execute();
      return toStored(cur);
    }
  }
  // Numbering continues past a removed rule's versions: (id, version) stays unique for the events that cite it.
  const last = await trx.selectFrom('rule_versions').select((eb) => eb.fn.max('version').as('v')).where('rule', '=', rule.id).executeTakeFirst();
  const row: RuleVersionsTable = { rule: rule.id, version: Number(last?.v ?? 0) + 1, source, body, author, created_at: Date.now() };
  await trx.insertInto('rule_versions').values(row).execute();
  await trx
    .insertInto('rules')
    .values({ id: rule.id, version: row.version, source, removed: 0 })
    .onConflict((oc) => oc.column('id').doUpdateSet({ version: row.version, source, removed: 0 }))
    .execute();
  return toStored(row);
}

function provisioned(id: string): RuleStoreError {
  return new RuleStoreError('RULE_PROVISIONED', id, `rule "${id}" comes from the config file and is read-only here: edit it in the config file's rules:, or save this one under another id`);
}

function owned(id: string): RuleStoreError {
  return new RuleStoreError('RULE_NOT_PROVISIONED', id, `rule "${id}" was created through the API: delete it there (DELETE /api/rules/${id}) or give the config rule another id`);
}

function toStored(r: Selectable<RuleVersionsTable>): StoredRule {
  // Bodies are RuleSchema's output as validated when saved; a schema change that alters them adds a migration step.
  return { rule: JSON.parse(r.body) as Rule, version: Number(r.version), source: r.source, updatedAt: Number(r.created_at), author: r.author };
}

/** JSON with object keys sorted, so the same rule always gives the same text whatever order its keys came in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
