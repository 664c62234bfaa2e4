// Rule names for labels: detections carry the rule id only. Names come from `GET /api/rules` (refetched on
// reconnect, and when a result names a rule not seen before: one made through the API after the page loaded) and
// from event messages (which carry ruleName); the id stands in until then.
import type { EventInfo, RuleInfo } from '../../server/wire.ts';

export class RuleNames {
  private readonly names = new Map<string, string>();
  private lastLoad = 0;

  name(id: string): string {
    return this.names.get(id) ?? id;
  }

  /** A result of rule `id` arrived: fetch the names again if it is new to us (at most every 10 s). */
  seen(id: string): void {
    if (this.names.has(id) || Date.now() - this.lastLoad < 10_000) return;
    void this.load();
  }

  learn(e: Pick<EventInfo, 'rule' | 'ruleName'>): void {
    this.names.set(e.rule, e.ruleName);
  }

  /** Loads every rule's name; false when the server has no rules API. */
  async load(): Promise<boolean> {
    this.lastLoad = Date.now();
    const res = await fetch('/api/rules', { cache: 'no-store' }).catch(() => null);
    if (!res?.ok) return false;
    const body = (await res.json()) as RuleInfo[] | { rules: RuleInfo[] };
    for (const r of Array.isArray(body) ? body : body.rules) this.names.set(r.rule.id, r.rule.name ?? r.rule.id);
    return true;
  }
}
