/**
 * Why the core refuses a request, as data. Each code is stable (it appears in the client's error,
 * the `x-outpost-decision` header and the audit record) and maps to one HTTP status (docs/architecture.md,
 * "Errors to clients").
 */
import { OutpostError } from '../errors.js';
import type { FiredRule } from '../schema/audit.js';

/** Stable denial codes and their HTTP status. */
export const DENIAL_STATUS = {
  unknown_virtual_key: 401,
  virtual_key_revoked: 401,
  virtual_key_required: 401,
  model_not_allowed: 403,
  provider_key_missing: 403,
  price_unknown: 403,
  guardrail_blocked: 403,
  host_blocked: 403,
  rate_limited: 429,
  token_limited: 429,
  concurrency_limited: 429,
  budget_exceeded: 402,
  internal_error: 500,
} as const;

/** A stable denial code. */
export type DenialCode = keyof typeof DENIAL_STATUS;

/** A refused request: what the client is told, and the rule that explains it. */
export interface Denial {
  readonly code: DenialCode;
  readonly status: number;
  /** Says what rule fired and what the user can do; never a secret that was found. */
  readonly message: string;
  /** Seconds until a retry can succeed (rate limits), else null. */
  readonly retryAfterSeconds: number | null;
  readonly rules: readonly FiredRule[];
}

/** Builds a denial; `status` follows from the code. */
export function denial(code: DenialCode, message: string, rules: readonly FiredRule[], retryAfterSeconds: number | null = null): Denial {
  return { code, status: DENIAL_STATUS[code], message, retryAfterSeconds, rules };
}

/** An internal failure inside the core, with a stable code (distinct from a policy denial). */
export class CoreError extends OutpostError<'detector_failed' | 'state_invalid' | 'price_failed'> {
  override readonly name = 'CoreError';
}
