// Credential scrubbing: camera URLs may carry user:password; neither may reach logs, APIs or browsers.
//
// Userinfo ends at the LAST "@" before the host: ffmpeg (av_url_split) reads `rtsp://admin:Sec@ret99@host/s`
// as user "admin", password "Sec@ret99", host "host". The authority ends at the first "/", "?" or "#", so a
// greedy match over everything but those (and whitespace) stops exactly where ffmpeg stops.

const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi;
const USERINFO_OF = /^[a-z][a-z0-9+.-]*:\/\/([^\s/?#]*)@/i;

/**
 * Query parameters that carry credentials in camera URLs: Reolink's RTMP (`?user=admin&password=...`), CGI MJPEG
 * endpoints (`video.cgi?user=..&pwd=..`), signed HLS (`index.m3u8?token=...`).
 */
const SECRET_PARAM = /([?&](?:user|username|usr|pass|password|passwd|pwd|token|access_token|auth|key|apikey|api_key|secret|signature|sig)=)([^&\s#'"]*)/gi;

/** Replaces the userinfo of every URL in `text`, and credential query parameters, with `***`. */
export function redactUrls(text: string): string {
  return text.replace(URL_USERINFO, '$1***@').replace(SECRET_PARAM, (_m, name: string, value: string) => (value ? `${name}***` : name));
}

/** The userinfo of a URL (`user:password`, split at the last "@"), or null. */
export function userinfoOf(source: string): string | null {
  return USERINFO_OF.exec(source)?.[1] || null;
}

/**
 * Secrets found in a source URL for scrubbing free text: the whole userinfo, the user and the password (split at
 * the first ":"; a password may contain ":" and "@") and credential query parameters, each raw and percent-decoded
 * (ffmpeg and cameras may print either form).
 */
export function secretsOf(source: string): string[] {
  const info = userinfoOf(source);
  const colon = info?.indexOf(':') ?? -1;
  const parts = !info ? [] : colon < 0 ? [info] : [info, info.slice(0, colon), info.slice(colon + 1)];
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) for (const m of source.matchAll(SECRET_PARAM)) parts.push(m[2]!);
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
