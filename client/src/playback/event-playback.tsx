// The event's recording (start - pre to end + post) with frame-exact overlays and the export button; rendered by
// the event detail page (timeline). An event still open has no end yet: its range runs to now. Whether video was
// kept for the range is asked first (recorded extents), so an event without recording says so instead of
// pointing a player at a playlist that cannot exist.
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { EventInfo } from '../../../server/wire.ts';
import { RuleNames } from '../rule-names.ts';
import { ExportButton } from './export-button.tsx';
import { RecordedPlayback } from './playback-view.tsx';

type Kept = 'checking' | 'yes' | 'no';

export default function EventPlayback({ event }: { event: EventInfo }) {
  const to = event.recording.to ?? Date.now();
  const kept = useRecording(event.camera, event.recording.from, to);
  // Every rule's evaluations may be shown: names from /api/rules, the event's own from the event.
  const names = useMemo(() => {
    const n = new RuleNames();
    void n.load().then(() => n.learn(event));
    n.learn(event);
    return n;
  }, [event.id]);
  const name = (id: string) => names.name(id);
  if (kept === 'checking') return <section class="event-playback muted">Looking for the recording…</section>;
  if (kept === 'no') return <section class="event-playback muted no-recording">No recording was kept for this event (recording off, or not yet indexed).</section>;
  return (
    <section class="event-playback">
      {/* Opens on the best frame, the one annotated above, rather than on the pre-roll before anything happened. */}
      <RecordedPlayback camera={event.camera} from={event.recording.from} to={to} rule={event.rule} ruleName={name} openAt={event.bestPdt} />
      <ExportButton target={{ event: event.id }} />
      {/* The same MP4 the notifications link to: cut on request, kept only as a cache (an export is kept until deleted). */}
      <a class="clip-link" href={`/api/events/${encodeURIComponent(event.id)}/clip.mp4`} download>
        Download clip (MP4)
      </a>
    </section>
  );
}

/** Whether the camera has recorded video overlapping [from, to] (GET /api/cameras/:id/recordings). */
function useRecording(camera: string, from: number, to: number): Kept {
  const [kept, setKept] = useState<Kept>('checking');
  useEffect(() => {
    let live = true;
    const url = `/api/cameras/${encodeURIComponent(camera)}/recordings?from=${from}&to=${to}`;
    fetch(url)
      .then((r) => (r.ok ? (r.json() as Promise<{ ranges: unknown[] }>) : { ranges: [] }))
      .then((b) => live && setKept(b.ranges.length > 0 ? 'yes' : 'no'))
      .catch(() => live && setKept('no'));
    return () => {
      live = false;
    };
  }, [camera, from, to]);
  return kept;
}
