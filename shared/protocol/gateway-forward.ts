/**
 * Gateway mode (issue 12.5): a virtual key whose provider key is `gateway:NAME` has no provider key
 * on the device. The agent decides the request as usual (virtual key, models, limits, budgets,
 * guardrails first), then sends it to the central gateway instead of the provider:
 *
 *   METHOD {gateway}/v1/agents/forward/{host}{path}
 *   x-outpost-device-credential: <device credential>   (the device, as on the WebSocket)
 *   x-outpost-virtual-key: <the virtual key the client sent>
 *   <the provider's headers, the provider key's place holding GATEWAY_KEY_PLACEHOLDER>
 *
 * The gateway checks the device and the virtual key against its own signed policy (and the key
 * revocations in force), replaces the placeholder with the provider key it holds, and forwards to
 * `https://{host}{path}`, streaming the answer back untouched. It writes no audit record of its own:
 * the agent's record of the request reaches it through the audit upload, so each request is
 * recorded once.
 */

/** The path prefix of the forward route; the provider's host and path follow it. */
export const FORWARD_PREFIX = '/v1/agents/forward/';

/** Header names of the forward request (removed before the request goes on to the provider). */
export const FORWARD_HEADERS = {
  deviceCredential: 'x-outpost-device-credential',
  virtualKey: 'x-outpost-virtual-key',
} as const;

/** What the agent puts where the provider key goes; the gateway replaces it. Never a real key. */
export const GATEWAY_KEY_PLACEHOLDER = 'outpost-gateway-provider-key';

/** The forward path for a request to `host` with `path` (which starts with `/`). */
export function forwardPath(host: string, path: string): string {
  return `${FORWARD_PREFIX}${host}${path}`;
}

/** Splits a forward path back into host and path; null when it is not one. */
export function parseForwardPath(pathAndQuery: string): { host: string; path: string } | null {
  if (!pathAndQuery.startsWith(FORWARD_PREFIX)) return null;
  const rest = pathAndQuery.slice(FORWARD_PREFIX.length);
  const slash = rest.indexOf('/');
  const host = slash === -1 ? rest : rest.slice(0, slash);
  if (!/^[a-z0-9.-]+(:\d{1,5})?$/i.test(host)) return null;
  return { host: host.toLowerCase(), path: slash === -1 ? '/' : rest.slice(slash) };
}
