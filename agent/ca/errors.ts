/** Typed errors of the certificate authority, each with a stable `code`. */
import { OutpostError } from '../../shared/errors.js';

export type CaErrorCode =
  /** The host is not a DNS name a leaf can be issued for (an IP address, empty, malformed). */
  | 'CA_BAD_HOST'
  /** The CA's name constraints do not cover the host: a leaf would be refused by every client. */
  | 'CA_OUTSIDE_CONSTRAINTS'
  /** The stored CA certificate and key do not belong together, or a file is not what it should be. */
  | 'CA_CORRUPT'
  /** Fleet mode: no intermediate is installed yet, or the one offered is unusable. */
  | 'CA_NO_INTERMEDIATE'
  | 'CA_BAD_INTERMEDIATE'
  /** A trust-store command failed (message carries its output). */
  | 'CA_TRUST_COMMAND'
  /** The operation is not possible on this OS. */
  | 'CA_TRUST_UNSUPPORTED';

/** An error of the CA or the trust stores. */
export class CaError extends OutpostError<CaErrorCode> {
  override readonly name = 'CaError';
}
