// The dashboard's pages beyond live video, registered in nav order. Each page module exports a PageRoute.
import { PAGES } from './routes.ts';
import { playbackRoute } from './playback/playback-page.tsx';

PAGES.push(playbackRoute);
