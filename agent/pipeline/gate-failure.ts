/**
 * When the gate itself fails (a keychain that rejects, an adapter or detector that throws, an audit
 * sink that throws), the failure becomes a decision instead of an exception the engine would have to
 * guess about: fail open forwards the request unchecked with every virtual key stripped (a provider
 * never sees one: it answers 401 rather than learn a key), fail closed answers a provider-shaped 503.
 * Either way the failure is recorded, counted, and reported as degraded (`GateHealth`).
 */
import { scrubSecrets } from '../../shared/core/guardrails/scrub.js';
import { VIRTUAL_KEY_PREFIX } from '../../shared/core/virtual-keys.js';
import type { InterceptedRequest } from './seam.js';
import type { FailMode } from '../../shared/schema/policy.js';

/** Where in the gate a failure happened. */
export type GateFailureStage = 'admit' | 'keychain' | 'detector' | 'audit';

/** One internal failure of the gate, as its owner hears of it (`GateDeps.onFailure`). */
export interface GateFailure {
  readonly stage: GateFailureStage;
  /** The error in words, capped and with anything secret-shaped redacted. */
  readonly message: string;
  /** The fail mode the failure was decided under. */
  readonly failMode: FailMode;
}

/** The gate's own health, for `outpost status`. */
export interface GateHealth {
  /** Internal failures since start. */
  readonly failures: number;
  /** The last failure, or null. */
  readonly last: (GateFailure & { readonly at: string }) | null;
  /** True while the last failure is recent (within `DEGRADED_FOR_MS`). */
  readonly degraded: boolean;
}

/** How long after its last internal failure the gate reports itself degraded. */
export const DEGRADED_FOR_MS = 10 * 60_000;

/** Longest error text kept in a record, a log line or status. */
const MAX_ERROR_CHARS = 300;

/**
 * An error in words fit for a record: capped, and with every secret-shaped value redacted (an error
 * from a keychain or a library may quote what it was given).
 */
export function failureText(err: unknown): string {
  const raw = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  const text = raw.length > MAX_ERROR_CHARS ? `${raw.slice(0, MAX_ERROR_CHARS)}…` : raw;
  return scrubSecrets(text).replace(/ovk-\S*/g, '[REDACTED:virtual-key]');
}

type HeaderValue = string | string[] | number;

function carriesVirtualKey(value: string | string[] | number | undefined, isVirtualKey: (v: string) => boolean): boolean {
  if (value === undefined || typeof value === 'number') return false;
  for (const v of Array.isArray(value) ? value : [value]) {
    if (v.includes(VIRTUAL_KEY_PREFIX)) return true;
    // A key without the conventional prefix is known only to the policy (`Bearer KEY`, or the bare value).
    const bare = v.replace(/^bearer\s+/i, '').trim();
    if (bare.length > 0 && isVirtualKey(bare)) return true;
  }
  return false;
}

/**
 * The request's headers and path with every virtual key removed: `x-outpost-vk`, any header whose
 * value carries an `ovk-` value or a key of the policy (`isVirtualKey`), and any such query parameter.
 * `isVirtualKey` may be unusable (the failure may be the policy's): it is then treated as false and
 * the `ovk-` convention alone decides.
 */
export function stripVirtualKeys(request: InterceptedRequest, isVirtualKey: (value: string) => boolean): { headers: Record<string, HeaderValue>; path: string } {
  const known = (v: string): boolean => {
    try {
      return isVirtualKey(v);
    } catch {
      return false;
    }
  };
  const headers: Record<string, HeaderValue> = {};
  for (const name in request.headers) {
    const v = request.headers[name];
    if (v === undefined || name === 'x-outpost-vk' || carriesVirtualKey(v, known)) continue;
    headers[name] = v;
  }
  let path = request.path;
  const q = path.indexOf('?');
  if (q !== -1) {
    const params = new URLSearchParams(path.slice(q + 1));
    let dropped = false;
    for (const [name, value] of [...params]) {
      if (carriesVirtualKey(value, known)) {
        params.delete(name, value);
        dropped = true;
      }
    }
    if (dropped) {
      const rest = params.toString();
      path = rest.length > 0 ? `${path.slice(0, q)}?${rest}` : path.slice(0, q);
    }
  }
  return { headers, path };
}
