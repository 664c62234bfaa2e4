// Credential scrubbing: camera URLs may carry user:password; neither may reach logs, APIs or browsers.

const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi;

/** Replaces the userinfo of every URL in `text` with `***`. */
export function redactUrls(text: string): string {
  return text.replace(URL_USERINFO, '$1***@');
}

/** Secrets (user, password, raw and percent-decoded) found in a source URL, for scrubbing free text. */
export function secretsOf(source: string): string[] {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^\s/@]*)@/i.exec(source);
  if (!m || !m[1]) return [];
  const out = new Set<string>();
  for (const part of m[1].split(':')) {
    if (part.length < 2) continue;
    out.add(part);
    try {
      out.add(decodeURIComponent(part));
    } catch {
      /* not percent-encoded */
    }
  }
  return [...out];
}

/** Scrubs URL userinfo and any of the given secrets from `text`. */
export function scrub(text: string, secrets: readonly string[] = []): string {
  let out = redactUrls(text);
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}
