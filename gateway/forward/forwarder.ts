/**
 * Gateway mode's forward route (`shared/protocol/gateway-forward.ts`): an enrolled device sends a
 * request it has already governed; the gateway checks the device, finds the virtual key in its own
 * signed policy (by hash; not revoked, in the policy nor by a command in force), checks that the
 * target is an AI endpoint of the provider whose key the virtual key maps to `gateway:NAME` (so the
 * key can only ever go to that provider's hosts), puts the key in place of the agent's placeholder
 * and forwards, streaming the answer back untouched. No audit record here: the agent's record comes
 * up through the audit upload, so each request is recorded once.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { FORWARD_HEADERS, GATEWAY_KEY_PLACEHOLDER, parseForwardPath } from '../../shared/protocol/gateway-forward.js';
import { policy as policySchema, type VirtualKey } from '../../shared/schema/policy.js';
import { GATEWAY_SECRET_REF } from '../../shared/schema/common.js';
import { matchEndpoint } from '../../shared/providers/registry.js';
import { compileProviderHosts } from '../../shared/core/hosts.js';
import type { GatewayStore } from '../store/store.js';
import { ApiHttpError } from '../http/errors.js';
import { secretHash } from '../http/bearer.js';
import type { ProviderSecrets } from './provider-secrets.js';

/** Request headers that do not go on to the provider (hop-by-hop, and ours). */
const DROPPED_REQUEST = new Set(['host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'content-length', FORWARD_HEADERS.deviceCredential, FORWARD_HEADERS.virtualKey]);
/** Response headers that do not come back (hop-by-hop). */
const DROPPED_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/** What the forwarder needs. */
export interface ForwarderDeps {
  readonly store: GatewayStore;
  readonly secrets: ProviderSecrets;
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
}

function header(req: http.IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/** Handles one forward request; throws `ApiHttpError` for a refusal before anything was forwarded. */
export async function forwardRequest(deps: ForwarderDeps, req: http.IncomingMessage, res: http.ServerResponse, pathAndQuery: string): Promise<void> {
  const target = parseForwardPath(pathAndQuery);
  if (target === null) throw new ApiHttpError(404, 'not_found', 'expected /v1/agents/forward/HOST/PATH');
  const credential = header(req, FORWARD_HEADERS.deviceCredential);
  const device = credential === null ? null : await deps.store.deviceByCredential(secretHash(credential));
  if (device === null) throw new ApiHttpError(401, 'unauthenticated', `a device credential is required (${FORWARD_HEADERS.deviceCredential}): enroll this device`);
  if (device.revoked) throw new ApiHttpError(403, 'device_revoked', 'this device was revoked by an administrator');

  const latest = await deps.store.latestPolicy();
  const parsed = latest === null ? null : policySchema.safeParse(latest.document);
  if (parsed === null || !parsed.success) throw new ApiHttpError(403, 'forbidden', 'this gateway has no policy to check the virtual key against');
  const policy = parsed.data;
  const presented = header(req, FORWARD_HEADERS.virtualKey);
  const vk = presented === null ? undefined : findVirtualKey(policy.virtualKeys, presented);
  if (vk === undefined) throw new ApiHttpError(401, 'invalid_virtual_key', 'the virtual key is unknown to the gateway\'s policy');
  if (vk.revoked || (await revokedByCommand(deps.store, vk.id))) throw new ApiHttpError(401, 'invalid_virtual_key', `virtual key "${vk.id}" has been revoked`);

  const endpoint = matchEndpoint(target.host, req.method ?? 'GET', target.path, compileProviderHosts(policy.providers));
  if (endpoint === null) throw new ApiHttpError(403, 'forbidden', `${target.host}${target.path.split('?')[0] ?? ''} is not an AI API endpoint the gateway forwards to`);
  const ref = vk.providerKeys?.[endpoint.provider];
  const name = ref === undefined ? null : GATEWAY_SECRET_REF.exec(ref)?.[1] ?? null;
  if (name === null) throw new ApiHttpError(403, 'forbidden', `virtual key "${vk.id}" has no gateway-held key for ${endpoint.provider}`);
  const key = await deps.secrets.get(name);
  if (key === null) throw new ApiHttpError(503, 'provider_key_missing', `the gateway holds no provider key "${name}" (providerKeys in its config)`);

  const headers: Record<string, string | string[]> = {};
  for (const [n, v] of Object.entries(req.headers)) {
    if (v === undefined || DROPPED_REQUEST.has(n)) continue;
    headers[n] = Array.isArray(v) ? v.map((x) => x.replaceAll(GATEWAY_KEY_PLACEHOLDER, key)) : v.replaceAll(GATEWAY_KEY_PLACEHOLDER, key);
  }
  const path = target.path.replaceAll(GATEWAY_KEY_PLACEHOLDER, encodeURIComponent(key));
  const started = Date.now();
  const answer = await deps.dispatcher.request({
    origin: `https://${target.host}`,
    path,
    method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
    headers,
    body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
  });
  const out: Record<string, string | string[]> = {};
  for (const [n, v] of Object.entries(answer.headers)) if (v !== undefined && !DROPPED_RESPONSE.has(n)) out[n] = v;
  res.writeHead(answer.statusCode, out);
  await pipeline(answer.body, res);
  deps.logger.info({ device: device.id, virtualKey: vk.id, provider: endpoint.provider, host: target.host, status: answer.statusCode, ms: Date.now() - started }, 'forwarded a gateway-mode request');
}

function findVirtualKey(keys: readonly VirtualKey[], presented: string): VirtualKey | undefined {
  const hash = crypto.createHash('sha256').update(presented).digest('hex');
  return keys.find((k) => (k.keySha256 !== undefined ? k.keySha256 === hash : k.key !== undefined && secretHash(k.key) === hash));
}

async function revokedByCommand(store: GatewayStore, id: string): Promise<boolean> {
  return (await store.commandsInForce()).some((c) => c.action.kind === 'revoke-virtual-key' && c.action.virtualKeyId === id);
}
