/**
 * An HTTP/2 stream presented as the request/response pair the exchange already drives (issue 18.1):
 * Node's own compatibility classes, with the differences that matter here smoothed at the edge, so
 * an h2 request runs the very same exchange (gate, tap, audit, flow control) as an HTTP/1.1 one.
 *
 * - The request's `headers` read like HTTP/1.1's: no pseudo-headers (`:method`, `:path`, …), and
 *   `host` from `:authority`. The gate, the adapters and the upstream request see one shape.
 * - The response drops what HTTP/2 forbids (RFC 9113 §8.2.2: `connection`, `keep-alive`,
 *   `transfer-encoding`, … ; a status message) instead of throwing or warning, so a gate's answer
 *   written for HTTP/1.1 (`connection: close`) goes out unchanged otherwise.
 * - `shouldKeepAlive = false` (a request whose body the exchange will not read: too large, upstream
 *   failed) ends the stream with RST_STREAM(NO_ERROR) once the answer is out (§8.1): the client stops
 *   sending, and the connection's other streams go on.
 */
import http2 from 'node:http2';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { isHopByHop } from './hop-by-hop.js';

/** Response fields HTTP/2 forbids (hop-by-hop), besides the ones the proxy never forwards anyway. */
function h2Headers(headers: OutgoingHttpHeaders | undefined): OutgoingHttpHeaders | undefined {
  if (headers === undefined) return undefined;
  let out: OutgoingHttpHeaders | null = null;
  for (const name in headers) {
    const lower = name.toLowerCase();
    if (!isHopByHop(lower)) continue;
    out ??= { ...headers };
    delete out[name];
  }
  return out ?? headers;
}

/** An HTTP/2 request whose headers read as HTTP/1.1's (no pseudo-headers, `host` from `:authority`). */
export class H2Request extends http2.Http2ServerRequest {
  /** A body follows unless the request's HEADERS frame ended the stream (RFC 9113 §8.1). */
  get bodyFollows(): boolean {
    return !this.stream.endAfterHeaders;
  }
}

/** An HTTP/2 response that accepts what the exchange writes for HTTP/1.1. */
export class H2Response extends http2.Http2ServerResponse<H2Request> {
  declare shouldKeepAlive: boolean;

  override setHeader(name: string, value: number | string | readonly string[]): void {
    if (!isHopByHop(name.toLowerCase())) super.setHeader(name, value);
  }

  override writeHead(statusCode: number, headers?: OutgoingHttpHeaders): this;
  override writeHead(statusCode: number, statusMessage: string, headers?: OutgoingHttpHeaders): this;
  override writeHead(statusCode: number, a?: string | OutgoingHttpHeaders, b?: OutgoingHttpHeaders): this {
    return super.writeHead(statusCode, h2Headers(typeof a === 'string' ? b : a));
  }

  /** Sends the head now (the status and the fields set so far), as HTTP/1.1's `flushHeaders`. */
  flushHeaders(): void {
    if (!this.headersSent && !this.stream.destroyed) this.writeHead(this.statusCode);
  }
}

// Node's typings declare these as plain fields; they are accessors on the prototypes, so they are
// redefined here rather than overridden in the class bodies above.
const plainHeaders = Symbol('outpost.h2.headers');
const keepStream = Symbol('outpost.h2.keep');
const compatHeaders = Object.getOwnPropertyDescriptor(http2.Http2ServerRequest.prototype, 'headers')?.get as (this: http2.Http2ServerRequest) => IncomingHttpHeaders;

Object.defineProperty(H2Request.prototype, 'headers', {
  get(this: H2Request & { [plainHeaders]?: IncomingHttpHeaders }): IncomingHttpHeaders {
    let plain = this[plainHeaders];
    if (plain !== undefined) return plain;
    const raw = compatHeaders.call(this);
    plain = {};
    for (const name in raw) if (name.charCodeAt(0) !== 58 /* ':' */) plain[name] = raw[name];
    const authority = raw[':authority'];
    if (typeof authority === 'string') plain.host = authority;
    this[plainHeaders] = plain;
    return plain;
  },
});

Object.defineProperties(H2Response.prototype, {
  // HTTP/2 has no reason phrase (RFC 9113 §8.3.2), and Node warns when one is set: ignored.
  statusMessage: { get: () => '', set: () => {} },
  /** The stream is gone (reset by the client, or closed). */
  destroyed: {
    get(this: H2Response): boolean {
      return this.stream.destroyed;
    },
  },
  /** False: the request body will not be read; the stream is reset with NO_ERROR once the answer is out. */
  shouldKeepAlive: {
    get(this: H2Response & { [keepStream]?: boolean }): boolean {
      return this[keepStream] !== false;
    },
    set(this: H2Response & { [keepStream]?: boolean }, value: boolean): void {
      if (!value && this[keepStream] !== false) this.once('finish', resetAfterAnswer);
      this[keepStream] = value;
    },
  },
});

function resetAfterAnswer(this: H2Response): void {
  const stream = this.stream;
  if (!stream.destroyed && stream.readable) stream.close(http2.constants.NGHTTP2_NO_ERROR);
}
