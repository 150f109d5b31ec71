/**
 * Reading an intercepted request's body, bounded by `proxy.maxBodyBytes`: whether there is one to
 * read at all, and its chunks kept up to the bound. The gate sees the whole body before anything
 * goes upstream (guardrails, virtual keys, the model), so it is held in memory; a body past the
 * bound is refused (413) without reading the rest.
 *
 * HOT PATH: one plan per request from its head, and a one-chunk body (the common case) is taken
 * as it came, without a copy.
 */
import { streamsRequest } from './exchange-headers.js';
import type { ExchangeRequest } from './exchange-types.js';

/**
 * How a request's body is taken: `streamed` goes upstream as it arrives, unread (gRPC, Connect
 * streams); `none` (the head says no body follows); `too-large` (its declared length is past the
 * bound: refused before reading); `read` (whole, through a {@link BoundedBody}).
 */
export type BodyPlan = 'streamed' | 'none' | 'too-large' | 'read';

/** The plan for `req`'s body from its head alone. */
export function bodyPlan(req: Pick<ExchangeRequest, 'headers' | 'bodyFollows'>, maxBytes: number): BodyPlan {
  const headers = req.headers;
  if (streamsRequest(headers['content-type'])) return 'streamed';
  const length = headers['content-length'];
  if (req.bodyFollows === false || (req.bodyFollows === undefined && length === undefined && headers['transfer-encoding'] === undefined)) return 'none';
  if (length !== undefined && Number(length) > maxBytes) return 'too-large';
  return 'read';
}

/** A request body's chunks as they arrive, up to `maxBytes`. */
export class BoundedBody {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxBytes: number) {}

  /** Keeps `chunk`; false once the body is past the bound (what was kept is dropped then). */
  add(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      this.chunks.length = 0;
      return false;
    }
    this.chunks.push(chunk);
    return true;
  }

  /** The whole body: its only chunk as it came, or the chunks joined. */
  take(): Buffer {
    return this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.size);
  }
}
