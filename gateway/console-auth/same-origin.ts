/**
 * Refusing sign-in attempts made from other sites (login CSRF): a browser says where a request came
 * from in `Sec-Fetch-Site` and `Origin`; a script (curl, fetch in Node) sends neither and is let
 * through, since it cannot carry a victim's cookies anyway.
 */
import type { IncomingMessage } from 'node:http';

/**
 * True unless the browser says the request came from another origin. `Sec-Fetch-Site` decides when
 * present (every current browser sends it); `Origin` otherwise, where `null` (an opaque origin) is
 * refused.
 */
export function fromSameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin' || site === 'none';
  const origin = req.headers.origin;
  if (typeof origin !== 'string') return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
