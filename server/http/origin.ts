// Cross-site websocket guard. Browsers let any page open a websocket to 127.0.0.1 (no CORS for
// websockets), so a browser upgrade must come from the dashboard's own origin. Requests with no
// Origin header are not from a browser page (integrations, curl) and are allowed.
import type { IncomingMessage } from 'node:http';

export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
