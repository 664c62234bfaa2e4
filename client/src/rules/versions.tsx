// A rule's version history, newest first: who saved it (the user, or "local" without auth), when, and which
// fields changed from the version before.
import type { RuleInfo } from '../../../server/wire.ts';
import { diffRules } from './form-model.ts';

const show = (v: unknown) => (v === undefined ? '—' : JSON.stringify(v));

export function VersionHistory({ versions }: { versions: RuleInfo[] }) {
  if (!versions.length) return null;
  const rows = versions.map((v, i) => ({ v, changes: i === 0 ? [] : diffRules(versions[i - 1]!.rule, v.rule) })).reverse();
  return (
    <section class="versions">
      <h3>Version history</h3>
      <ol class="version-list">
        {rows.map(({ v, changes }) => (
          <li class="version" data-version={v.version}>
            <strong>v{v.version}</strong> by <span class="version-author">{v.author}</span>, <time dateTime={new Date(v.updatedAt).toISOString()}>{new Date(v.updatedAt).toLocaleString()}</time>
            {v.version === 1 || !changes.length ? (
              <span class="muted"> {v.version === 1 ? '(created)' : '(no field changed)'}</span>
            ) : (
              <ul class="version-changes">
                {changes.map((c) => (
                  <li data-path={c.path}>
                    <code>{c.path}</code>: {show(c.from)} → {show(c.to)}
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
