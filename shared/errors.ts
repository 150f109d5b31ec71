/**
 * The base of Outpost's typed errors: a stable `code` that tests, logs and status match on (never
 * the message), and the cause kept for debugging. Each part declares its own codes as a union.
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
