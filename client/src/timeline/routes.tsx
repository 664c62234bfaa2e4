// The timeline's pages: #/events (list, filters, keyboard review), #/events/<id> (detail), #/strip/<camera>[/<yyyy-mm-dd>].
import { useState } from 'preact/hooks';
import { pageView } from '../page.tsx';
import type { PageRoute } from '../routes.ts';
import { filtersFromQuery } from './api.ts';
import { EventDetailPage } from './event-detail.tsx';
import { dayKey, dayStart, parseDayKey } from './format.ts';
import { CameraStrip } from './strip.tsx';
import { TimelinePage } from './timeline-page.tsx';
import './timeline.css';

function StripPage({ camera, day }: { camera: string; day: number }) {
  const [shown, setShown] = useState(day);
  const go = (d: number) => {
    setShown(d);
    history.replaceState(null, '', `#/strip/${encodeURIComponent(camera)}/${dayKey(d)}`);
  };
  return (
    <section class="timeline">
      <p><a href="#/events">← Events</a></p>
      <CameraStrip camera={camera} day={shown} onDay={go} />
    </section>
  );
}

export const eventDetailRoute: PageRoute = {
  pattern: /^#\/events\/([^/]+)$/,
  mount: (app, [id]) => pageView(app, <EventDetailPage id={id ?? ''} />),
};

export const timelineRoute: PageRoute = {
  // The filters ride in the hash's query (#/events?camera=yard&reviewed=false): a reload, a bookmark or a shared
  // link shows the same list. Read raw from location.hash: the router URI-decodes its captures.
  pattern: /^#\/events\/?(?:\?.*)?$/,
  nav: { label: 'Events', href: '#/events' },
  mount: (app, _params, deps) => pageView(app, <TimelinePage socket={deps.socket} initial={filtersFromQuery(location.hash.split('?')[1] ?? '')} />),
};

export const stripRoute: PageRoute = {
  pattern: /^#\/strip\/([^/]+)(?:\/(\d{4}-\d{2}-\d{2}))?$/,
  mount: (app, [camera, day]) => pageView(app, <StripPage camera={camera ?? ''} day={parseDayKey(day ?? '') ?? dayStart(Date.now())} />),
};
