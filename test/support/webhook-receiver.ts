// A webhook receiver for the notification tests: verifies every request with the Standard Webhooks library's own
// verifier (Webhook.verify) and keeps what it received. It can be taken down (the port closed: connections
// refused) and brought back on the same port, or made to answer 503.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  timestamp: string;
  body: { type: string; timestamp: string; data: { message: string; event: { id: string; peak: number; state: string; bestPdt: number }; before: unknown; rule: { id: string }; links: Record<string, unknown>; thumbnail?: string } };
  headers: Record<string, string>;
  verified: boolean;
}

export const SECRET = `whsec_${Buffer.from('vigil-test-secret-0123456789abcdef').toString('base64')}`;

export interface WebhookReceiver {
  url: string;
  received: Received[];
  /** Requests answered with an error or not verified. */
  refused: number;
  down(): Promise<void>;
  up(): Promise<void>;
  /** Answer 503 to everything (true) or accept again (false). */
  failing(on: boolean): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret = SECRET, port = 0): Promise<WebhookReceiver> {
  const wh = new Webhook(secret);
  const received: Received[] = [];
  let refused = 0;
  let fail = false;
  let server: Server | null = null;
  const listen = (p: number) =>
    new Promise<Server>((resolve, reject) => {
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const payload = Buffer.concat(chunks).toString('utf8');
          const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
          let verified = false;
          try {
            wh.verify(payload, headers);
            verified = true;
          } catch {
            verified = false;
          }
          if (fail || !verified) {
            refused++;
            res.writeHead(fail ? 503 : 401).end();
            return;
          }
          received.push({ id: headers['webhook-id']!, timestamp: headers['webhook-timestamp']!, body: JSON.parse(payload) as Received['body'], headers, verified });
          res.writeHead(204).end();
        });
      });
      s.once('error', reject);
      s.listen(p, '127.0.0.1', () => resolve(s));
    });
  server = await listen(port);
  const bound = (server.address() as AddressInfo).port;
  const stop = async () => {
    const s = server;
    server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  };
  return {
    url: `http://127.0.0.1:${bound}/hook`,
    received,
    get refused() {
      return refused;
    },
    down: stop,
    up: async () => {
      if (!server) server = await listen(bound);
    },
    failing: (on) => void (fail = on),
    close: stop,
  };
}
