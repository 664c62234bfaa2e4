// Keyboard review of the timeline: j / ArrowDown next, k / ArrowUp previous, r mark reviewed, t true positive,
// f false positive (both also mark it reviewed), Enter opens the event. Keys typed into a form field are theirs.
import type { EventInfo } from '../../../server/wire.ts';
import type { Review } from './api.ts';

export interface ReviewKeys {
  move(step: number): void;
  current(): EventInfo | undefined;
  review(e: EventInfo, r: Review): void;
  open(e: EventInfo): void;
}

const ACTIONS: Record<string, Review> = {
  r: { reviewed: true },
  t: { reviewed: true, verdict: 'true-positive' },
  f: { reviewed: true, verdict: 'false-positive' },
};

export function onReviewKey(ev: KeyboardEvent, keys: ReviewKeys): void {
  const t = ev.target as HTMLElement | null;
  if (ev.ctrlKey || ev.metaKey || ev.altKey || (t && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(t.tagName))) return;
  const step = ev.key === 'j' || ev.key === 'ArrowDown' ? 1 : ev.key === 'k' || ev.key === 'ArrowUp' ? -1 : 0;
  if (step) {
    ev.preventDefault();
    return keys.move(step);
  }
  const e = keys.current();
  if (!e) return;
  const action = ACTIONS[ev.key];
  if (action) {
    ev.preventDefault();
    keys.review(e, action);
  } else if (ev.key === 'Enter') {
    ev.preventDefault();
    keys.open(e);
  }
}
