// Which channels an event goes to, from the config alone (pure): the store calls it inside the event's
// transaction. A rule without `notify` notifies every channel when its severity is alert.
import type { NotifyConfig } from '../../config/notify.ts';
import type { Rule } from '../../config/rule.ts';
import type { NotifyPolicy, NotifyTarget } from '../store/outbox.ts';

const RANK = { detection: 0, alert: 1 } as const;

export function configPolicy(cfg: Pick<NotifyConfig, 'channels'>): NotifyPolicy {
  return {
    targets(rule: Rule, _camera: string): NotifyTarget[] {
      const n = rule.notify;
      const minSeverity = n?.minSeverity ?? 'alert';
      if (RANK[rule.severity] < RANK[minSeverity]) return [];
      const wanted = n?.channels ? new Set(n.channels) : null;
      return cfg.channels
        .filter((c) => !wanted || wanted.has(c.id))
        .map((c) => ({ channel: c.id, cooldownMs: (n?.cooldown ?? c.cooldown) * 1000 }));
    },
  };
}
