// `#/playback/<camera>?from=<ms>&to=<ms>`: any recorded range of a camera (default: the last 10 minutes), every
// rule's evaluations drawn, and its export.
import type { PageRoute } from '../routes.ts';
import { pageView } from '../page.tsx';
import { ExportButton } from './export-button.tsx';
import { RecordedPlayback } from './playback-view.tsx';

const DEFAULT_SPAN_MS = 10 * 60_000;

export function parseRange(query: string, now = Date.now()): { from: number; to: number } {
  const q = new URLSearchParams(query);
  const to = Number(q.get('to')) || now;
  const from = Number(q.get('from')) || to - DEFAULT_SPAN_MS;
  return { from, to };
}

function PlaybackPage({ camera, from, to }: { camera: string; from: number; to: number }) {
  return (
    <div class="page playback-page">
      <h2>
        Recording of {camera}: {new Date(from).toLocaleString()} to {new Date(to).toLocaleTimeString()}
      </h2>
      <RecordedPlayback camera={camera} from={from} to={to} />
      <ExportButton target={{ camera, from, to }} />
    </div>
  );
}

export const playbackRoute: PageRoute = {
  pattern: /^#\/playback\/([^/?]+)(?:\?(.*))?$/,
  mount(app, [camera, query]) {
    const { from, to } = parseRange(query ?? '');
    return pageView(app, <PlaybackPage camera={camera!} from={from} to={to} />);
  },
};
