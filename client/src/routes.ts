// Hash routes beyond the live grid and camera views. Each page module adds one entry; the first pattern that
// matches `location.hash` wins. Params are the pattern's capture groups, URI-decoded.
import type { View, ViewDeps } from './views.ts';

export interface PageRoute {
  pattern: RegExp;
  /** Title of the nav link (absent: not in the nav, e.g. a detail page). */
  nav?: { label: string; href: string };
  mount(app: HTMLElement, params: string[], deps: ViewDeps): View;
}

export const PAGES: PageRoute[] = [];

export function matchPage(hash: string): { route: PageRoute; params: string[] } | null {
  for (const route of PAGES) {
    const m = route.pattern.exec(hash);
    if (m) return { route, params: m.slice(1).map((p) => decodeURIComponent(p ?? '')) };
  }
  return null;
}
