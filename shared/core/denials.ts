/**
 * Why Outpost refuses a request, as data. Each code is stable (it appears in the client's error,
 * the `x-outpost-decision` header and the audit record) and maps to one HTTP status (docs/architecture.md,
 * "Errors to clients").
 */
import { OutpostError } from '../errors.js';
import type { FiredRule } from '../schema/audit.js';

/**
 * Every code Outpost refuses a request with, the core's and the gate's alike: its HTTP status, and
 * what it means in plain words (docs/architecture.md lists this table; the client's message adds
 * the rule and what to do). One table, so a code has one status wherever it is raised.
 */
export const DENIALS = {
  unknown_virtual_key: { status: 401, explanation: 'The virtual key is not one the current policy knows.' },
  virtual_key_revoked: { status: 401, explanation: 'An administrator revoked this virtual key.' },
  virtual_key_required: { status: 401, explanation: 'Policy requires a virtual key for this provider, and the request carried its own provider key.' },
  model_not_allowed: { status: 403, explanation: 'Policy does not allow this model for this principal.' },
  provider_key_missing: { status: 403, explanation: 'The virtual key has no provider key stored on this device for this host.' },
  price_unknown: { status: 403, explanation: 'A budget applies, and the model has no known price to charge it with.' },
  guardrail_blocked: { status: 403, explanation: 'A guardrail found something policy does not allow to leave the device.' },
  host_blocked: { status: 403, explanation: 'Policy blocks this host.' },
  app_denied: { status: 403, explanation: 'The app sending the request is denied by the organisation, or waits for its approval while undecided apps are blocked.' },
  virtual_key_unsupported: { status: 403, explanation: 'Virtual keys are not supported on this kind of session (realtime WebSockets).' },
  invalid_request: { status: 400, explanation: 'The request body is not the JSON the provider expects, so it could not be checked.' },
  request_too_large: { status: 413, explanation: 'The request body is larger than Outpost can check.' },
  rate_limited: { status: 429, explanation: 'Too many requests in the policy\'s window; retry after the time given.' },
  token_limited: { status: 429, explanation: 'Too many tokens in the policy\'s window; retry after the time given.' },
  concurrency_limited: { status: 429, explanation: 'Too many requests in flight at once for this principal.' },
  budget_exceeded: { status: 402, explanation: 'The budget for this period is spent.' },
  response_refused: { status: 502, explanation: 'The provider\'s answer could not be checked (compressed beyond limits, or unreadable), so it was refused.' },
  upstream_error: { status: 502, explanation: 'The provider could not be reached.' },
  gateway_unavailable: { status: 503, explanation: 'The virtual key is served through the central gateway, and this device is not enrolled with one.' },
  audit_unavailable: { status: 503, explanation: 'The audit log cannot record, and policy says to refuse rather than send unrecorded (failMode closed).' },
  internal_error: { status: 503, explanation: 'Outpost failed while handling the request, and policy says to refuse rather than send it unchecked (failMode closed).' },
} as const satisfies Record<string, { readonly status: number; readonly explanation: string }>;

/** A stable denial code. */
export type DenialCode = keyof typeof DENIALS;

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
  return { code, status: DENIALS[code].status, message, retryAfterSeconds, rules };
}

/** An internal failure inside the core, with a stable code (distinct from a policy denial). */
export class CoreError extends OutpostError<'detector_failed' | 'state_invalid' | 'price_failed'> {
  override readonly name = 'CoreError';
}
