// Who may talk to this server, checked on every request and every websocket upgrade.
// - Host: a page on any site can make the browser resolve its own name to 127.0.0.1 (DNS rebinding)
//   and then read the API and video as "same origin". Only names that cannot be rebound by someone
//   else are accepted: loopback (localhost, *.localhost, 127.0.0.0/8, [::1]), the bound address (every
//   local address when bound to a wildcard), and the operator's `server.allowedHosts`.
// - Origin: browsers let any page send requests and open websockets to 127.0.0.1; when a request
//   carries an Origin it must be the page's own server (its host equals the validated Host) or one of
//   `server.allowedOrigins` (a proxy that rewrites Host). No Origin means not a page (curl, integrations).
import { networkInterfaces } from 'node:os';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyError } from '@fastify/error';
import { Errors } from './errors.ts';

export interface GuardPolicy {
  /** The address the server binds (config server.host). */
  boundHost: string;
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
}

const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);

export class RequestGuard {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly origins: Set<string>;

  constructor(policy: GuardPolicy) {
    const bound = WILDCARD.has(policy.boundHost) ? localAddresses() : [policy.boundHost];
    for (const name of [...bound, ...policy.allowedHosts]) {
      if (name.startsWith('.')) this.suffixes.push(name.toLowerCase());
      const h = hostnameOf(name.replace(/^\./, ''));
      if (h) this.exact.add(h);
    }
    this.origins = new Set(policy.allowedOrigins.map((o) => new URL(o).origin));
  }

  /** The refusal for a request or upgrade with these headers, or null when it may pass. */
  check(headers: IncomingHttpHeaders): FastifyError | null {
    const host = headers.host;
    const name = host ? hostnameOf(host) : null;
    if (!host || !name || !this.hostAllowed(name)) return Errors.FOREIGN_HOST(host ?? '(none)');
    const origin = headers.origin;
    if (origin !== undefined && !this.originAllowed(origin, host)) return Errors.FOREIGN_ORIGIN(JSON.stringify(origin));
    return null;
  }

  private hostAllowed(name: string): boolean {
    if (name === 'localhost' || name.endsWith('.localhost') || name === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(name)) return true;
    return this.exact.has(name) || this.suffixes.some((s) => name.endsWith(s));
  }

  private originAllowed(origin: string, host: string): boolean {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false; // includes "null" (sandboxed frames, file: pages)
    }
    if (this.origins.has(url.origin)) return true;
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === new URL(`http://${host}`).host;
  }
}

/** Lower-cased host name of a Host header or name (IPv6 in brackets, port dropped); null when malformed. */
function hostnameOf(host: string): string | null {
  try {
    const url = new URL(`http://${host}`);
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return null;
    return url.hostname;
  } catch {
    return null;
  }
}

function localAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .flatMap((a) => (a ? [a.family === 'IPv6' ? `[${a.address.replace(/%.*$/, '')}]` : a.address] : []));
}
