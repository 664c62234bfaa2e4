// PLACEHOLDER, replaced by the recorded playback work: the event's recording with frame-exact overlays.
// Keep the contract: default export, props `PlaybackSlotProps` (client/src/timeline/playback-slot.ts).
import type { PlaybackSlotProps } from '../timeline/playback-slot.ts';

export default function EventPlayback({ event }: PlaybackSlotProps) {
  return (
    <div class="event-playback placeholder" data-event={event.id}>
      Recorded playback of this event ({new Date(event.recording.from).toLocaleTimeString()} onwards) is not available in this build.
    </div>
  );
}
