/** Typed errors of the agent's gateway sync, each with a stable code. */

/** What went wrong, as a stable code. */
export type SyncErrorCode =
  /** The gateway URL is malformed, or plain http:// off loopback. */
  | 'ERR_OUTPOST_GATEWAY_URL'
  /** The gateway's TLS certificate does not verify, or does not match the pinned key. */
  | 'ERR_OUTPOST_GATEWAY_TLS'
  /** The gateway could not be reached, or answered something that is not the protocol. */
  | 'ERR_OUTPOST_GATEWAY_UNREACHABLE'
  /** The gateway refused the enrollment (the token is unknown, used or expired; bad request). */
  | 'ERR_OUTPOST_ENROLL_REFUSED'
  /** The enrollment on disk or in the keychain is missing or damaged. */
  | 'ERR_OUTPOST_ENROLLMENT'
  /** An administrator revoked this device. */
  | 'ERR_OUTPOST_DEVICE_REVOKED';

/** An error of the sync client or enrollment. */
export class SyncError extends Error {
  constructor(
    readonly code: SyncErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'SyncError';
  }
}
