// #/rules: every rule with its cameras, kind, severity, enabled switch, events in the last 24 h, evaluations
// per hour and model time per evaluation (GET /metrics); config-file rules are read-only.
import { useEffect, useState } from 'preact/hooks';
import type { RuleInfo } from '../../../server/wire.ts';
import { ApiError, rulesApi } from './api.ts';
import { parseRuleStats, type RuleStats } from './rule-stats.ts';

interface Row {
  info: RuleInfo;
  /** Events in the last 24 h ("500+" past the one page asked for). */
  events: string | null;
}

export function RulesPage() {
  const [rows, setRows] = useState<Row[] | null>(null);
  const [stats, setStats] = useState<{ byRule: Map<string, RuleStats>; hours: number } | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function load() {
    try {
      const list = await rulesApi.list();
      setRows(list.map((info) => ({ info, events: null })));
      const counts = await Promise.all(list.map((r) => rulesApi.events24h(r.rule.id).then((p) => `${p.events.length}${p.next ? '+' : ''}`, () => null)));
      setRows(list.map((info, i) => ({ info, events: counts[i] ?? null })));
    } catch (err) {
      setError((err as Error).message);
    }
  }
  useEffect(() => {
    void load();
    void Promise.all([rulesApi.metrics(), rulesApi.uptime().catch(() => ({ uptimeSeconds: 0 }))]).then(([text, h]) =>
      setStats({ byRule: parseRuleStats(text), hours: Math.max(h.uptimeSeconds, 1) / 3600 }),
    );
  }, []);

  async function toggle(info: RuleInfo) {
    try {
      await rulesApi.replace(info.rule.id, { ...info.rule, enabled: !info.rule.enabled });
      setError(null);
      await load();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  }

  return (
    <div class="rules-page page">
      <div class="row page-head">
        <h2>Rules</h2>
        <a class="button new-rule" href="#/rules/new">
          New rule
        </a>
      </div>
      {error && <p class="form-error">{error}</p>}
      {rows === null ? (
        <p class="muted">Loading…</p>
      ) : rows.length === 0 ? (
        <p class="muted">No rules yet.</p>
      ) : (
        <div class="table-scroll">
          <table class="rules-table">
            <thead>
              <tr>
                <th>Rule</th>
                <th>Cameras</th>
                <th>Kind</th>
                <th>Severity</th>
                <th>Enabled</th>
                <th>Events 24 h</th>
                <th>Evaluations/h</th>
                <th>Model time</th>
                <th>Version</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <RuleRow row={r} stats={stats?.byRule.get(r.info.rule.id)} hours={stats?.hours ?? 0} onToggle={() => void toggle(r.info)} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function RuleRow({ row, stats, hours, onToggle }: { row: Row; stats: RuleStats | undefined; hours: number; onToggle: () => void }) {
  const { rule, source, version } = row.info;
  const config = source === 'config';
  return (
    <tr class="rule-row" data-rule={rule.id}>
      <td>
        <a href={`#/rules/${encodeURIComponent(rule.id)}`} class="rule-name">
          {rule.name ?? rule.id}
        </a>
        {config && <div class="note config-note">from the config file: edit it there</div>}
      </td>
      <td class="rule-cameras">{rule.cameras === 'all' ? 'all' : rule.cameras.join(', ')}</td>
      <td class="rule-kind">{rule.kind}</td>
      <td class="rule-severity">{rule.severity}</td>
      <td>
        <label class="switch">
          <input type="checkbox" class="enabled-switch" checked={rule.enabled} disabled={config} onChange={onToggle} aria-label={`${rule.id} enabled`} />
        </label>
      </td>
      <td class="rule-events">{row.events ?? '…'}</td>
      <td class="rule-rate">{stats && hours ? (stats.evaluations / hours).toFixed(0) : '–'}</td>
      <td class="rule-model-time">{stats?.answers ? `${Math.round((stats.modelSeconds / stats.answers) * 1000)} ms` : '–'}</td>
      <td class="rule-version">v{version}</td>
    </tr>
  );
}
