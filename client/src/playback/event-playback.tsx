// The event's recording (start - pre to end + post) with frame-exact overlays and the export button; rendered by
// the event detail page (timeline). An event still open has no end yet: its range runs to now.
import type { EventInfo } from '../../../server/wire.ts';
import { ExportButton } from './export-button.tsx';
import { RecordedPlayback } from './playback-view.tsx';

export default function EventPlayback({ event }: { event: EventInfo }) {
  const to = event.recording.to ?? Date.now();
  const name = (id: string) => (id === event.rule ? event.ruleName : id);
  return (
    <section class="event-playback">
      <RecordedPlayback camera={event.camera} from={event.recording.from} to={to} rule={event.rule} ruleName={name} />
      <ExportButton target={{ event: event.id }} />
    </section>
  );
}
