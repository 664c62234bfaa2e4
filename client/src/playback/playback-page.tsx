// `#/playback/<camera>?from=<ms>&to=<ms>[&rule=<id>]`: any recorded range of a camera (default: the last 10 minutes),
// every rule's evaluations drawn (or, with `rule`, a toggle to that rule's only), and its export.
import type { PageRoute } from '../routes.ts';
import { useMemo } from 'preact/hooks';
import { pageView } from '../page.tsx';
import { RuleNames } from '../rule-names.ts';
import { ExportButton } from './export-button.tsx';
import { RecordedPlayback } from './playback-view.tsx';

const DEFAULT_SPAN_MS = 10 * 60_000;

export function parseRange(query: string, now = Date.now()): { from: number; to: number; rule?: string } {
  const q = new URLSearchParams(query);
  const to = Number(q.get('to')) || now;
  const from = Number(q.get('from')) || to - DEFAULT_SPAN_MS;
  const rule = q.get('rule');
  return rule ? { from, to, rule } : { from, to };
}

function PlaybackPage({ camera, from, to, rule }: { camera: string; from: number; to: number; rule?: string }) {
  const names = useMemo(() => {
    const n = new RuleNames();
    void n.load();
    return n;
  }, []);
  return (
    <div class="page playback-page">
      <h2>
        Recording of {camera}: {new Date(from).toLocaleString()} to {new Date(to).toLocaleTimeString()}
      </h2>
      <RecordedPlayback camera={camera} from={from} to={to} {...(rule ? { rule } : {})} ruleName={(id) => names.name(id)} />
      <ExportButton target={{ camera, from, to }} />
    </div>
  );
}

export const playbackRoute: PageRoute = {
  pattern: /^#\/playback\/([^/?]+)(?:\?(.*))?$/,
  mount(app, [camera, query]) {
    const range = parseRange(query ?? '');
    return pageView(app, <PlaybackPage camera={camera!} {...range} />);
  },
};
