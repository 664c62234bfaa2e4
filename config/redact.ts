// Credential scrubbing: camera URLs may carry user:password; neither may reach logs, APIs or browsers.
//
// Userinfo ends at the LAST "@" before the host: ffmpeg (av_url_split) reads `rtsp://admin:Sec@ret99@host/s`
// as user "admin", password "Sec@ret99", host "host". The authority ends at the first "/", "?" or "#", so a
// greedy match over everything but those (and whitespace) stops exactly where ffmpeg stops.

const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi;
const USERINFO_OF = /^[a-z][a-z0-9+.-]*:\/\/([^\s/?#]*)@/i;

/** Replaces the userinfo of every URL in `text` with `***`. */
export function redactUrls(text: string): string {
  return text.replace(URL_USERINFO, '$1***@');
}

/** The userinfo of a URL (`user:password`, split at the last "@"), or null. */
export function userinfoOf(source: string): string | null {
  return USERINFO_OF.exec(source)?.[1] || null;
}

/**
 * Secrets found in a source URL for scrubbing free text: the whole userinfo, the user and the password (split at
 * the first ":"; a password may contain ":" and "@"), each raw and percent-decoded (ffmpeg and cameras may print
 * either form).
 */
export function secretsOf(source: string): string[] {
  const info = userinfoOf(source);
  if (!info) return [];
  const colon = info.indexOf(':');
  const parts = colon < 0 ? [info] : [info, info.slice(0, colon), info.slice(colon + 1)];
  const out = new Set<string>();
  for (const part of parts) {
    for (const form of [part, decoded(part)]) if (form.length >= 2) out.add(form);
  }
  // Longest first: scrubbing "Sec@ret99" before "Sec" leaves no fragment of it behind.
  return [...out].sort((a, b) => b.length - a.length);
}

function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part; // not valid percent-encoding: the raw form is all there is
  }
}

/** Scrubs URL userinfo and any of the given secrets from `text`. */
export function scrub(text: string, secrets: readonly string[] = []): string {
  let out = redactUrls(text);
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) if (s) out = out.split(s).join('***');
  return out;
}
