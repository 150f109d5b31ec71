/**
 * The exchange's contracts with the engine: what it shares, the client's request and response as it
 * reads and writes them (HTTP/1.1, or an HTTP/2 stream presented the same way), and where a request
 * goes. Its own file, so the servers that hand requests over need not import the exchange.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Gate } from '../pipeline/seam.js';
import type { DecompressionBounds } from '../../shared/schema/config.js';
import type { FrontDoor } from '../../shared/schema/audit.js';
import type { Upstream } from './upstream.js';
import type { OwnerSlot } from '../system/process-owner/process-owners.js';

/** Where a request or response finds its exchange (set by the exchange; listeners are module functions). */
export const EXCHANGE: unique symbol = Symbol('outpost.exchange');

/** What the request's and response's events call on their exchange. */
export interface ExchangeListener {
  bodyChunk(chunk: Buffer): void;
  bodyEnd(): void;
  drained(): void;
  clientClosed(): void;
}

/** Counters the exchange updates (owned by the engine's stats). */
export interface ExchangeCounters {
  requests: number;
  failed: number;
  /** Times an upstream response was paused because its client fell a window behind (flow control). */
  paused: number;
}

/** What every exchange shares: built once per engine. */
export interface ExchangeContext {
  readonly gate: Gate;
  readonly upstream: Upstream;
  readonly maxBodyBytes: number;
  /** Bounds on decoding a compressed response for the tap (against decompression bombs). */
  readonly decompression: DecompressionBounds;
  readonly counters: ExchangeCounters;
  /** Where a failing gate or tap is reported (the request itself goes on as the fail mode says). */
  readonly onError: (error: Error, where: string) => void;
}

/**
 * The client's request as the exchange reads it: an HTTP/1.1 `ExchangeRequest`, or an HTTP/2
 * stream presented the same way (`H2Request`, h2-messages.ts).
 */
export interface ExchangeRequest {
  readonly headers: IncomingHttpHeaders;
  readonly method?: string | undefined;
  /**
   * Whether a body follows the head; absent (HTTP/1.1), the head says so (content-length or
   * transfer-encoding). HTTP/2 frames the body itself: a body follows unless the head ended the stream.
   */
  readonly bodyFollows?: boolean;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  once(event: 'end', listener: () => void): unknown;
  /** The body as it arrives, for a streamed request ({@link streamsRequest}). */
  [Symbol.asyncIterator](): AsyncIterator<unknown>;
  off(event: 'data', listener: (chunk: Buffer) => void): unknown;
  off(event: 'end', listener: () => void): unknown;
  [EXCHANGE]?: ExchangeListener;
}

/**
 * The client's response as the exchange writes it: an HTTP/1.1 `ExchangeResponse`, or an HTTP/2
 * stream presented the same way (`H2Response`, h2-messages.ts).
 */
export interface ExchangeResponse {
  statusCode: number;
  statusMessage: string;
  /** False: the request body will not be read, so the client must stop sending (HTTP/1.1 closes, HTTP/2 resets the stream). */
  shouldKeepAlive: boolean;
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  readonly writableLength: number;
  readonly writableFinished: boolean;
  once(event: 'close' | 'drain', listener: () => void): unknown;
  getHeaderNames(): string[];
  removeHeader(name: string): void;
  setHeader(name: string, value: string | string[]): unknown;
  writeHead(status: number, headers?: OutgoingHttpHeaders): unknown;
  writeHead(status: number, statusMessage: string, headers?: OutgoingHttpHeaders): unknown;
  flushHeaders(): void;
  write(chunk: Buffer): boolean;
  end(): unknown;
  end(chunk: Buffer | string): unknown;
  /** Trailers sent with the end. */
  addTrailers(headers: OutgoingHttpHeaders): void;
  cork(): void;
  uncork(): void;
  destroy(error?: Error): unknown;
  [EXCHANGE]?: ExchangeListener;
}

/** Where the request goes. */
export interface ExchangeTarget {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  /** False for plain-HTTP forwarding of non-policy hosts: no gate, no tap, bytes only. */
  readonly govern: boolean;
  /** The front door the connection came through (default `proxy`), for the audit record. */
  readonly door?: FrontDoor;
  /** The process that opened the connection, filled in when its lookup ends (Linux). */
  readonly owner?: OwnerSlot;
}
