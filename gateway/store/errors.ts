/** Typed errors of the gateway's store, each with a stable `code`. */
import { OutpostError } from '../../shared/errors.js';

/** Stable codes; the hub and the admin API decide on these, never on messages. */
export type GatewayStoreErrorCode =
  /** The disk is full or the database refuses writes: acks stop, agents keep their records. */
  | 'STORE_UNAVAILABLE'
  /** Two replicas raced for the same policy version; the caller retries. */
  | 'STORE_CONFLICT'
  /** The store was used after `close()`. */
  | 'STORE_CLOSED';

/** A gateway store error with a stable code. */
export class GatewayStoreError extends OutpostError<GatewayStoreErrorCode> {
  override readonly name = 'GatewayStoreError';
}
