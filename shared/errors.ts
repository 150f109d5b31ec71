/**
 * The base of every typed error in Outpost (a test keeps it so): a stable `code` that tests, logs
 * and status match on (never the message), and the cause kept for debugging. Each part declares its
 * own codes as a union.
 *
 * Naming: a code a client reads on the wire (an admin API answer, a control API answer, a denial in
 * the provider's error shape) is snake_case, as the providers' own codes are (`invalid_document`,
 * `csr_refused`, `pause_not_allowed`); an internal code is UPPER_SNAKE prefixed by its part
 * (`CA_CORRUPT`, `STORE_FULL`, `PROXY_LOOP`, `SYNC_GATEWAY_TLS`, `SYSTEM_PROXY_COMMAND`).
 */
export class OutpostError<Code extends string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
