// #/events/<id>: the annotated best frame, the facts of the event (rule version, model, exact prompt), every
// evaluation, the recorded playback slot, and the review actions: reviewed, verdict, note, keep forever, delete.
import { useEffect, useState } from 'preact/hooks';
import type { EventDetail, EventInfo } from '../../../server/wire.ts';
import EventPlayback from '../playback/event-playback.tsx';
import { deleteEvent, fetchEvent, reviewEvent, type Review } from './api.ts';
import { Evaluations } from './evaluations.tsx';
import { cameraName, verdictLabel } from './event-row.tsx';
import { dateTime, duration } from './format.ts';

export function EventDetailPage({ id }: { id: string }) {
  const [event, setEvent] = useState<EventDetail | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    fetchEvent(id).then(setEvent, (err: Error) => setError(`Could not load the event: ${err.message}`));
  }, [id]);
  if (error) return <p class="tl-error" role="alert">{error}</p>;
  if (event === undefined) return <p class="muted">Loading…</p>;
  if (event === null) return <p class="tl-error" role="alert">No event "{id}": deleted, or removed by retention. <a href="#/events">Back to events</a></p>;
  const save = async (r: Review) => {
    try {
      const saved = await reviewEvent(id, r);
      setEvent({ ...event, ...saved });
      setError(null);
    } catch (err) {
      setError(`Could not save: ${(err as Error).message}`);
    }
  };
  const remove = async () => {
    if (!confirm(`Delete this event, its evaluations and its pictures? This cannot be undone.`)) return;
    try {
      await deleteEvent(id);
      location.hash = '#/events';
    } catch (err) {
      setError(`Could not delete: ${(err as Error).message}`);
    }
  };
  return (
    <section class="event-detail" data-id={event.id}>
      <p><a href="#/events">← Events</a> · <a href={`#/strip/${encodeURIComponent(event.camera)}`}>{cameraName(event.camera)}'s day</a></p>
      <h2>{event.ruleName} <span class={`sev sev-${event.severity}`}>{event.severity}</span></h2>
      <div class="ed-body">
        <img class="ed-frame" src={event.annotated} alt={`best frame of ${event.ruleName}`} />
        <div class="ed-side">
          <Facts event={event} />
          <Actions event={event} save={save} remove={remove} />
        </div>
      </div>
      {/* Recorded playback slot: see playback-slot.ts for the contract. */}
      <EventPlayback event={event} />
      <h3>Prompt</h3>
      <pre class="ed-prompt">{event.prompt}</pre>
      <h3>Evaluations ({event.evaluations.length})</h3>
      <Evaluations list={event.evaluations} />
    </section>
  );
}

function Facts({ event: e }: { event: EventInfo }) {
  const rows: [string, string][] = [
    ['Camera', cameraName(e.camera)],
    ['Start', dateTime(e.startPdt)],
    ['Duration', duration(e)],
    ['Peak count', String(e.peak)],
    ['State', e.state + (e.closeReason ? ` (${e.closeReason})` : '')],
    ['Rule', `${e.rule} v${e.ruleVersion}`],
    ['Model', `${e.engine.model} (${e.engine.kind})`],
    ['Verdict', verdictLabel(e.verdict) || 'none'],
  ];
  return (
    <dl class="ed-facts">
      {rows.map(([k, v]) => [<dt key={`k${k}`}>{k}</dt>, <dd key={`v${k}`} data-fact={k}>{v}</dd>])}
    </dl>
  );
}

function Actions({ event: e, save, remove }: { event: EventInfo; save: (r: Review) => Promise<void>; remove: () => Promise<void> }) {
  const [note, setNote] = useState(e.note ?? '');
  return (
    <div class="ed-actions">
      <label class="check">
        <input type="checkbox" name="reviewed" checked={e.reviewed} onChange={(ev) => void save({ reviewed: (ev.currentTarget as HTMLInputElement).checked })} /> Reviewed
      </label>
      <div class="verdict-buttons" role="group" aria-label="verdict">
        <button type="button" name="true-positive" aria-pressed={e.verdict === 'true-positive'} onClick={() => void save({ reviewed: true, verdict: e.verdict === 'true-positive' ? null : 'true-positive' })}>True positive</button>
        <button type="button" name="false-positive" aria-pressed={e.verdict === 'false-positive'} onClick={() => void save({ reviewed: true, verdict: e.verdict === 'false-positive' ? null : 'false-positive' })}>False positive</button>
      </div>
      <label class="check">
        <input type="checkbox" name="keep" checked={e.keep} onChange={(ev) => void save({ keep: (ev.currentTarget as HTMLInputElement).checked })} /> Keep forever
      </label>
      <form class="note" onSubmit={(ev) => { ev.preventDefault(); void save({ note: note.trim() || null }); }}>
        <textarea name="note" rows={2} maxLength={2000} placeholder="Note" value={note} onInput={(ev) => setNote((ev.currentTarget as HTMLTextAreaElement).value)} />
        <button type="submit">Save note</button>
      </form>
      <button type="button" class="danger" name="delete" onClick={() => void remove()}>Delete event</button>
    </div>
  );
}
