// Every evaluation of an event: when, positive or not, the model's time, the parsed boxes and the raw answer.
import type { Evaluation } from '../../../server/wire.ts';
import { clock } from './format.ts';

function boxes(e: Evaluation): string {
  if (e.boxes.length === 0 && e.points.length === 0) return e.count !== null ? `count ${e.count}` : '—';
  const b = e.boxes.map((x) => `${x.label} [${Math.round(x.x1)},${Math.round(x.y1)},${Math.round(x.x2)},${Math.round(x.y2)}]`);
  const p = e.points.map((x) => `${x.label} (${Math.round(x.x)},${Math.round(x.y)})`);
  return [...b, ...p].join(' · ');
}

export function Evaluations({ list }: { list: Evaluation[] }) {
  if (list.length === 0) return <p class="muted">No evaluations stored.</p>;
  return (
    <ol class="evaluations">
      {list.map((e) => (
        <li key={`${e.pdt}-${e.run}`} class={`evaluation ${e.outcome}`} data-pdt={e.pdt}>
          <div class="eval-head">
            <time>{clock(e.pdt)}.{String(e.pdt % 1000).padStart(3, '0')}</time>
            <span class={`outcome ${e.outcome}`}>{e.outcome}</span>
            <span class="eval-ms">{e.timings ? `${Math.round(e.timings.totalMs)} ms` : '—'}</span>
          </div>
          <div class="eval-boxes">{boxes(e)}</div>
          {e.raw !== null && <pre class="eval-raw">{e.raw}</pre>}
        </li>
      ))}
    </ol>
  );
}
