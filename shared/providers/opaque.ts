/**
 * Hosts whose AI protocol the agent cannot read, so it governs them at host level only: the host is
 * intercepted (policy, pinning detection and CA as for any AI host) and every call is recorded with
 * its RPC, sizes, status and latency, but no prompt, model or usage is read and no guardrail runs.
 *
 * - Cursor (`api2.cursor.sh` and other `*.cursor.sh`): Connect RPCs over HTTP/2 or, with Cursor's
 *   "Disable HTTP/2" setting (needed behind a proxy that speaks HTTP/1.1, as this one does),
 *   HTTP/1.1. The bodies are protobuf (`application/proto`, `application/connect+proto` envelopes,
 *   often gzip-compressed per message) against a private, unpublished schema that changes with each
 *   release: reading prompts out of it would be guesswork, so it is not attempted.
 */
import type { ProviderId } from '../schema/policy.js';

/** An opaque host's calls as the audit names them. */
export interface OpaqueCall {
  readonly provider: ProviderId;
  /** The RPC (`aiserver.v1.ChatService/StreamUnifiedChatWithTools`) or the path. */
  readonly endpoint: string;
  /** Why the call is not read, for the record. */
  readonly reason: string;
}

interface OpaqueHost {
  matches(host: string): boolean;
  readonly provider: ProviderId;
  readonly reason: string;
}

const OPAQUE_HOSTS: readonly OpaqueHost[] = [
  {
    matches: (host) => host === 'cursor.sh' || host.endsWith('.cursor.sh'),
    provider: 'cursor',
    reason: 'Cursor speaks Connect/protobuf with a private schema: the call is recorded at host level, its prompt and usage are not read',
  },
];

/** The opaque call `path` (without query) is on `host`, or null when the host is not opaque. */
export function opaqueCall(host: string, path: string): OpaqueCall | null {
  for (const h of OPAQUE_HOSTS) {
    if (!h.matches(host)) continue;
    // Connect paths are `/{package}.{Service}/{Method}`: the RPC without its leading slash.
    return { provider: h.provider, endpoint: path.length > 1 ? path.slice(1) : path, reason: h.reason };
  }
  return null;
}
