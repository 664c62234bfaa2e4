// The contract between the event detail page and recorded playback (client/src/playback/event-playback.tsx, owned
// by the playback work): the detail page renders `<EventPlayback event={...}/>` (the module's default export)
// with the event as the API sends it; `event.recording` is the range to play ([start - pre, end + post], pdt ms).
import type { EventInfo } from '../../../server/wire.ts';

export interface PlaybackSlotProps {
  event: EventInfo;
}
