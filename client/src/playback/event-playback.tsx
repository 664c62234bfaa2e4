// The event's recording (start - pre to end + post) with frame-exact overlays and the export button; rendered by
// the event detail page (timeline). An event still open has no end yet: its range runs to now.
import { useMemo } from 'preact/hooks';
import type { EventInfo } from '../../../server/wire.ts';
import { RuleNames } from '../rule-names.ts';
import { ExportButton } from './export-button.tsx';
import { RecordedPlayback } from './playback-view.tsx';

export default function EventPlayback({ event }: { event: EventInfo }) {
  const to = event.recording.to ?? Date.now();
  // Every rule's evaluations may be shown: names from /api/rules, the event's own from the event.
  const names = useMemo(() => {
    const n = new RuleNames();
    void n.load().then(() => n.learn(event));
    n.learn(event);
    return n;
  }, [event.id]);
  const name = (id: string) => names.name(id);
  return (
    <section class="event-playback">
      <RecordedPlayback camera={event.camera} from={event.recording.from} to={to} rule={event.rule} ruleName={name} />
      <ExportButton target={{ event: event.id }} />
    </section>
  );
}
