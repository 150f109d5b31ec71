/**
 * Refusing sign-in attempts made from other sites (login CSRF): a browser says where a request came
 * from in `Sec-Fetch-Site` and `Origin`; a script (curl, fetch in Node) sends neither and is let
 * through, since it cannot carry a victim's cookies anyway.
 */
import type { IncomingMessage } from 'node:http';

/** True unless the browser says the request came from another origin. */
export function fromSameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (typeof origin !== 'string') return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
