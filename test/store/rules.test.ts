// Versioned rules on a real SQLite file: a new version only when the body changes, config and API rules never
// overwrite each other, removal keeps the versions events point at, the config file synced in one transaction.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, RuleStoreError, storeFileIn, type Store } from '../../pipelines/store/index.ts';
import { rule } from '../support/events.ts';

let dataDir: string;
let store: Store;
beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-rules-'));
  store = await openSqliteStore({ file: storeFileIn(dataDir), dataDir });
});
afterEach(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const failure = (p: Promise<unknown>) => p.then(
  () => null,
  (e: RuleStoreError) => ({ name: e.name, code: e.code, ruleId: e.ruleId, message: e.message }),
);

describe('rule repository', () => {
  it('save: version 1, the same version for the same body (whatever its key order), a new one when it changes', async () => {
    const before = Date.now();
    const v1 = await store.rules.save(rule(), 'api', 'alice');
    expect(v1).toMatchObject({ rule: rule(), version: 1, source: 'api', author: 'alice' });
    expect(v1.updatedAt).toBeGreaterThanOrEqual(before);
    const reordered = Object.fromEntries(Object.entries(rule()).reverse()) as ReturnType<typeof rule>;
    expect(await store.rules.save(reordered, 'api', 'bob')).toEqual(v1);
    const v2 = await store.rules.save(rule({ question: 'people without a hard hat' }), 'api', 'bob');
    expect(v2).toMatchObject({ version: 2, author: 'bob', rule: { question: 'people without a hard hat' } });
    expect(await store.rules.get('helmets')).toEqual(v2);
    expect((await store.rules.versions('helmets')).map((r) => [r.version, r.rule.question])).toEqual([
      [1, 'people without a helmet'],
      [2, 'people without a hard hat'],
    ]);
    expect(await store.rules.get('nobody')).toBeNull();
    expect(await store.rules.versions('nobody')).toEqual([]);
  });

  it('list: current versions of the rules not removed, by id', async () => {
    await store.rules.save(rule({ id: 'b' }), 'api', 'a');
    await store.rules.save(rule({ id: 'a', kind: 'yesno', question: 'Is the door open?' }), 'config', 'config');
    await store.rules.save(rule({ id: 'b', enabled: false }), 'api', 'a');
    await store.rules.save(rule({ id: 'c' }), 'api', 'a');
    await store.rules.remove('c');
    expect((await store.rules.list()).map((r) => [r.rule.id, r.version, r.source, r.rule.enabled])).toEqual([
      ['a', 1, 'config', true],
      ['b', 2, 'api', false],
    ]);
  });

  it('refuses an api write over a config rule and a config write over an api rule, changing nothing', async () => {
    await store.rules.save(rule({ id: 'door' }), 'config', 'config');
    await store.rules.save(rule({ id: 'gate' }), 'api', 'alice');
    expect(await failure(store.rules.save(rule({ id: 'door', question: 'x' }), 'api', 'alice'))).toMatchObject({
      name: 'RuleStoreError',
      code: 'RULE_PROVISIONED',
      ruleId: 'door',
      message: expect.stringMatching(/config file/),
    });
    expect(await failure(store.rules.save(rule({ id: 'gate', question: 'x' }), 'config', 'config'))).toMatchObject({ code: 'RULE_NOT_PROVISIONED', ruleId: 'gate', message: /DELETE \/api\/rules\/gate/ });
    expect(await failure(store.rules.remove('door'))).toMatchObject({ code: 'RULE_PROVISIONED' });
    expect((await store.rules.versions('door')).map((r) => r.rule.question)).toEqual(['people without a helmet']);
    expect((await store.rules.versions('gate')).map((r) => r.rule.question)).toEqual(['people without a helmet']);
  });

  it('remove: api rules only; versions stay; saving the id again continues the numbering', async () => {
    await store.rules.save(rule(), 'api', 'alice');
    await store.rules.save(rule({ question: 'v2' }), 'api', 'alice');
    expect(await store.rules.remove('helmets')).toBe(true);
    expect(await store.rules.remove('helmets')).toBe(false);
    expect(await store.rules.remove('nobody')).toBe(false);
    expect(await store.rules.get('helmets')).toBeNull();
    expect(await store.rules.list()).toEqual([]);
    expect((await store.rules.versions('helmets')).map((r) => r.version)).toEqual([1, 2]);
    // Saved again with the last body: the same version comes back; as a config rule: a new version under the new owner.
    expect(await store.rules.save(rule({ question: 'v2' }), 'api', 'bob')).toMatchObject({ version: 2, author: 'alice' });
    expect(await store.rules.remove('helmets')).toBe(true);
    expect(await store.rules.save(rule({ question: 'v2' }), 'config', 'config')).toMatchObject({ version: 3, source: 'config' });
  });

  it('syncProvisioned: new and changed config rules get versions, those gone from the file are removed, clashes are reported', async () => {
    await store.rules.syncProvisioned([rule({ id: 'door' }), rule({ id: 'yard' })]);
    await store.rules.save(rule({ id: 'gate' }), 'api', 'alice');
    const result = await store.rules.syncProvisioned([rule({ id: 'door', question: 'changed' }), rule({ id: 'gate' }), rule({ id: 'new' })]);
    expect(result).toEqual({ conflicts: ['gate'] });
    expect((await store.rules.list()).map((r) => [r.rule.id, r.version, r.source])).toEqual([
      ['door', 2, 'config'],
      ['gate', 1, 'api'],
      ['new', 1, 'config'],
    ]);
    expect(await store.rules.get('yard')).toBeNull();
    expect(await store.rules.versions('yard')).toHaveLength(1);
    await store.rules.syncProvisioned([]);
    expect((await store.rules.list()).map((r) => r.rule.id)).toEqual(['gate']);
  });
});
