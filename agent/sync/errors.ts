/** Typed errors of the agent's gateway sync, each with a stable code. */
import { OutpostError } from '../../shared/errors.js';

/** What went wrong, as a stable code. */
export type SyncErrorCode =
  /** The gateway URL is malformed, or plain http:// off loopback. */
  | 'SYNC_GATEWAY_URL'
  /** The gateway's TLS certificate does not verify, or does not match the pinned key. */
  | 'SYNC_GATEWAY_TLS'
  /** The gateway could not be reached, or answered something that is not the protocol. */
  | 'SYNC_GATEWAY_UNREACHABLE'
  /** The gateway refused the enrollment (the token is unknown, used or expired; bad request). */
  | 'SYNC_ENROLL_REFUSED'
  /** The enrollment on disk or in the keychain is missing or damaged. */
  | 'SYNC_ENROLLMENT'
  /** An administrator revoked this device. */
  | 'SYNC_DEVICE_REVOKED'
  /** The browser sign-in of `outpost enroll --sso` failed, was refused, or was not finished in time. */
  | 'SYNC_SSO_SIGN_IN';

/** An error of the sync client or enrollment. */
export class SyncError extends OutpostError<SyncErrorCode> {
  constructor(code: SyncErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'SyncError';
  }
}
