// Per-rule figures for the rules page from the Prometheus text at GET /metrics (server/metrics.ts):
// evaluations per hour since the server started (vigil_rule_evaluations_total over its uptime) and mean model
// time per answered evaluation (vigil_rule_model_seconds sum / count), summed over cameras.
export interface RuleStats {
  evaluations: number;
  modelSeconds: number;
  answers: number;
}

const LINE = /^(vigil_rule_evaluations_total|vigil_rule_model_seconds_sum|vigil_rule_model_seconds_count)\{([^}]*)\}\s+(\S+)/;

export function parseRuleStats(text: string): Map<string, RuleStats> {
  const out = new Map<string, RuleStats>();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const rule = /(?:^|,)rule="((?:[^"\\]|\\.)*)"/.exec(m[2]!)?.[1];
    if (rule === undefined) continue;
    const s = out.get(rule) ?? { evaluations: 0, modelSeconds: 0, answers: 0 };
    const v = Number(m[3]);
    if (m[1] === 'vigil_rule_evaluations_total') {
      s.evaluations += v; // every outcome, change-gate repeats included (they are evaluations too, without the model)
    } else if (m[1] === 'vigil_rule_model_seconds_sum') s.modelSeconds += v;
    else s.answers += v;
    out.set(rule, s);
  }
  return out;
}
