// One row of the timeline: thumbnail, rule, camera, start, duration, peak, severity and review state.
import type { EventInfo } from '../../../server/wire.ts';
import { cameras } from '../page.tsx';
import { dateTime, duration } from './format.ts';

export function cameraName(id: string): string {
  return cameras.value.find((c) => c.id === id)?.name ?? id;
}

export function verdictLabel(v: EventInfo['verdict']): string {
  return v === 'true-positive' ? 'true positive' : v === 'false-positive' ? 'false positive' : '';
}

interface Props {
  event: EventInfo;
  selected: boolean;
  onSelect: () => void;
}

export function EventRow({ event: e, selected, onSelect }: Props) {
  return (
    <li
      class={`event-row${selected ? ' selected' : ''}${e.reviewed ? ' reviewed' : ''}`}
      data-id={e.id}
      data-reviewed={String(e.reviewed)}
      data-verdict={e.verdict ?? ''}
      tabIndex={selected ? 0 : -1}
      aria-selected={selected}
      onClick={onSelect}
    >
      <a class="thumb" href={`#/events/${encodeURIComponent(e.id)}`} tabIndex={-1}>
        <img src={e.thumbnail} alt="" loading="lazy" width={96} height={54} />
      </a>
      <div class="ev-main">
        <a class="ev-rule" href={`#/events/${encodeURIComponent(e.id)}`} tabIndex={-1}>
          {e.ruleName}
        </a>
        <span class="ev-camera">{cameraName(e.camera)}</span>
        <span class="ev-time">{dateTime(e.startPdt)}</span>
      </div>
      <div class="ev-facts">
        <span class="ev-duration" title="duration">{duration(e)}</span>
        <span class="ev-peak" title="peak count">×{e.peak}</span>
        <span class={`sev sev-${e.severity}`}>{e.severity}</span>
        <span class="ev-review">{e.reviewed ? '✓ reviewed' : 'unreviewed'}</span>
        {e.verdict && <span class={`verdict ${e.verdict}`}>{verdictLabel(e.verdict)}</span>}
        {e.keep && <span class="keep">kept</span>}
      </div>
    </li>
  );
}
