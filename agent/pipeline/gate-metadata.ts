/**
 * What else a client sends besides the prompt, as text for the input `secrets` rules: header lines
 * and URL query parameters (`RequestFacts.metadata`). A key pasted into a custom header or a
 * `?access_token=` leaves the machine as surely as one in the prompt.
 *
 * Left out: the credential the virtual-key swap owns (the provider credential headers and
 * `?key=`), cookies and the proxy's own credential (a web app's session, not a leak), and values
 * shorter than any credential format. An API client's header is scanned as `name: value`, so a
 * generic assignment (`x-internal-token: …`) is found; a web app's only as its value, since
 * browsers send the app's own anti-abuse and CSRF tokens in headers named like credentials.
 *
 * HOT PATH (every AI request): a few comparisons per header; strings are built only for values
 * long enough to hold a credential.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Headers never scanned: the credentials the swap owns or the client's session, and framing. */
const SKIP = new Set(['authorization', 'x-api-key', 'x-goog-api-key', 'api-key', 'x-outpost-vk', 'cookie', 'proxy-authorization', 'host', 'content-length', 'content-type', 'accept', 'accept-encoding', 'connection', 'transfer-encoding']);

/** Shorter values hold no credential any rule finds (the shortest formats have 16 characters or more). */
const MIN_VALUE = 12;

/** The header lines and query parameters to scan, per the rules above. */
export function requestMetadata(headers: IncomingHttpHeaders, path: string, webApp: boolean): string[] {
  const out: string[] = [];
  for (const name in headers) {
    if (SKIP.has(name)) continue;
    const raw = headers[name];
    if (raw === undefined) continue;
    const value = typeof raw === 'string' ? raw : raw.join(', ');
    if (value.length < MIN_VALUE) continue;
    out.push(webApp ? value : `${name}: ${value}`);
  }
  const q = path.indexOf('?');
  if (q !== -1 && path.length - q > MIN_VALUE) {
    for (const [name, value] of new URLSearchParams(path.slice(q + 1))) {
      if (name !== 'key' && value.length >= MIN_VALUE) out.push(`${name}=${value}`);
    }
  }
  return out;
}
