// The dashboard's pages beyond live video, registered in nav order. Each page module exports a PageRoute.
import { PAGES } from './routes.ts';
import { ruleEditorRoute, rulesRoute } from './rules/route.tsx';
import { eventDetailRoute, stripRoute, timelineRoute } from './timeline/routes.tsx';
import { playbackRoute } from './playback/playback-page.tsx';

PAGES.push(timelineRoute, eventDetailRoute, stripRoute, rulesRoute, ruleEditorRoute, playbackRoute);
