/** Typed errors of the interception engine, each with a stable `code` (and an HTTP status where one fits). */
import { OutpostError } from '../../shared/errors.js';

/** Stable codes; tests and logs match on these, never on messages. */
export type ProxyErrorCode =
  | 'PROXY_BAD_AUTHORITY'
  | 'PROXY_LOOP'
  | 'PROXY_UPSTREAM_PROXY_REFUSED'
  | 'PROXY_UPSTREAM_CONNECT'
  | 'PROXY_CLIENT_ABORTED'
  | 'PROXY_LISTEN'
  | 'PROXY_DECODE_FAILED'
  | 'PROXY_DECODED_TOO_LARGE'
  | 'PROXY_RESPONSE_REFUSED';

/** An engine error with a stable code. */
export class ProxyError extends OutpostError<ProxyErrorCode> {
  override readonly name = 'ProxyError';
  constructor(
    code: ProxyErrorCode,
    message: string,
    /** The HTTP status the client gets for it. */
    readonly status: number = 502,
  ) {
    super(code, message);
  }
}
