// Pages written as Preact components share the shell's View contract (views.ts), so the router mounts them like
// the live grid and camera views: `pageView(app, <RulesPage .../>)` renders into the app element and unmounts on
// destroy. Camera lists reach a page through the `cameras` signal, updated by the shell.
import { render, type ComponentChild } from 'preact';
import { signal } from '@preact/signals';
import type { CameraInfo } from '../../server/wire.ts';
import type { View } from './views.ts';

/** Every camera the server lists, kept current by the shell (socket `cameras` / `camera`). */
export const cameras = signal<CameraInfo[]>([]);

export function pageView(app: HTMLElement, page: ComponentChild): View {
  app.replaceChildren();
  render(page, app);
  return {
    update: (cams) => (cameras.value = cams),
    camera: (cam) => (cameras.value = cameras.value.map((c) => (c.id === cam.id ? cam : c))),
    players: () => [],
    destroy: () => render(null, app),
  };
}
