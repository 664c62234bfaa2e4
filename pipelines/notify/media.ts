// Links and pictures for messages: absolute URLs under server.publicUrl (or the bound address), JPEGs read
// from the event's evidence files (null once the event is gone).
import { readFile } from 'node:fs/promises';
import type { EventLinks, EventMedia } from './types.ts';

export function eventMedia(baseUrl: () => string, filePath: (id: string, kind: 'snapshot' | 'thumbnail' | 'annotated') => string | null): EventMedia {
  return {
    links(id, recording, camera): EventLinks {
      const base = baseUrl().replace(/\/+$/, '');
      const e = encodeURIComponent(id);
      return {
        snapshot: `${base}/api/events/${e}/snapshot`,
        annotated: `${base}/api/events/${e}/annotated`,
        thumbnail: `${base}/api/events/${e}/thumbnail`,
        clip: `${base}/api/events/${e}/clip.mp4`,
        event: `${base}/api/events/${e}`,
        page: `${base}/#/events/${e}`,
        live: `${base}/#/camera/${encodeURIComponent(camera)}`,
        recording,
      };
    },
    async jpeg(id, kind) {
      const path = filePath(id, kind);
      return path ? readFile(path).catch(() => null) : null;
    },
  };
}
