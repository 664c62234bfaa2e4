// The one mapping from a stored event to what clients see (the HTTP API, socket.io and /api/stream):
// the record plus the URLs of its evidence images. Used by every route and forwarder that sends an event.
import type { EventRecord } from '../pipelines/rules/types.ts';
import type { EventInfo } from './wire.ts';

export type EventImage = 'snapshot' | 'annotated' | 'thumbnail';

/** URL (relative to the server root) of one of an event's images. */
export function eventImageUrl(id: string, image: EventImage): string {
  return `/api/events/${encodeURIComponent(id)}/${image}`;
}

export function toEventInfo(record: EventRecord): EventInfo {
  return {
    ...record,
    snapshot: eventImageUrl(record.id, 'snapshot'),
    annotated: eventImageUrl(record.id, 'annotated'),
    thumbnail: eventImageUrl(record.id, 'thumbnail'),
  };
}
