/**
 * Errors the gateway's HTTP APIs answer: a status, a stable `code`, a message in words, and for
 * invalid input every problem with its JSON path (`apiError` in shared/schema/protocol.ts).
 */
import type { z } from 'zod';
import { OutpostError } from '../../shared/errors.js';
import { problemsOf, type SchemaProblem } from '../../shared/schema/validate.js';

/** Stable codes of the gateway's HTTP answers. */
export type ApiErrorCode =
  | 'invalid_request'
  | 'invalid_json'
  | 'body_too_large'
  | 'unauthenticated'
  | 'invalid_token'
  | 'device_revoked'
  | 'not_found'
  | 'method_not_allowed'
  | 'fleet_ca_not_configured'
  | 'forbidden'
  | 'csrf_failed'
  | 'oidc_unavailable'
  | 'oidc_not_configured'
  | 'cross_site_request'
  | 'invalid_virtual_key'
  | 'provider_key_missing'
  | 'upstream_error'
  | 'store_unavailable'
  | 'internal';

/** An error answered to an HTTP client. */
export class ApiHttpError extends OutpostError<ApiErrorCode> {
  override readonly name = 'ApiHttpError';
  constructor(
    readonly status: number,
    code: ApiErrorCode,
    message: string,
    readonly problems?: readonly SchemaProblem[],
  ) {
    super(code, message);
  }

  /** The JSON body (`apiError`). */
  toBody(): { error: { code: string; message: string; problems?: SchemaProblem[] } } {
    return { error: { code: this.code, message: this.message, ...(this.problems ? { problems: [...this.problems] } : {}) } };
  }
}

/** Parses `input` with `schema` or throws a 400 naming every bad field (`what`: "the query", "the body"). */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const problems = problemsOf(r.error);
  throw new ApiHttpError(400, 'invalid_request', `${what} is invalid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
}
