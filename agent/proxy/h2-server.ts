/**
 * The inner HTTP/2 server (issue 18.1): every intercepted TLS connection whose client chose `h2` in
 * ALPN is handed here, as HTTP/1.1 ones are handed to the inner HTTP server. Each stream arrives as
 * an {@link H2Request}/{@link H2Response} pair and runs the same exchange.
 *
 * HTTP/2 lets one connection ask for far more work than HTTP/1.1 does, so every known abuse is
 * bounded by nghttp2 through Node's options, each with a test (`test/integration/proxy/h2-abuse.test.ts`):
 *
 * | abuse | bound |
 * |---|---|
 * | many streams at once | `maxConcurrentStreams` advertised; streams past it are refused, and a client that keeps opening them (`maxSessionRejectedStreams`) loses the connection |
 * | rapid reset (CVE-2023-44487): open and cancel streams in a loop, each one costing upstream work | streams reset before their answer ended, counted per connection in a token bucket (`streamResetBurst`, then `streamResetRate` per second): past it, GOAWAY(ENHANCE_YOUR_CALM) and the connection is dropped. Counted here because Node 20 ignores its own `streamResetBurst`/`streamResetRate` options and nghttp2's built-in bound (1000, then 33/s) let ~1000 requests per connection reach upstream |
 * | CONTINUATION flood (CVE-2024-27316 class): a header block that never ends | nghttp2 caps CONTINUATION frames per block and the block's size (`maxHeaderListSize`, advertised and enforced) |
 * | header-list bomb: a huge or numerous header list (HPACK makes it cheap to send) | `maxHeaderListSize` bytes and `maxHeaderListPairs` fields; past them the stream is refused (431-equivalent RST) |
 * | SETTINGS / PING flood: frames that each demand an acknowledgement from a client that does not read | `maxSettings` entries per frame, `maxOutstandingSettings`/`maxOutstandingPings`, and `maxSessionMemory` for what waits to be sent |
 * | invalid frames | `maxSessionInvalidFrames` |
 * | idle or slow connections (slowloris) | the session times out after the keep-alive time without a frame; a stream's request must arrive whole within the request time |
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { streamsRequest } from './exchange-headers.js';
import type { ExchangeTarget } from './exchange-types.js';
import { H2Request, H2Response } from './h2-messages.js';
import { TARGET, type InterceptedSocket } from './intercepted-socket.js';

/** The bounds above, as passed to Node; exported for the tests that prove each. */
export const H2_LIMITS = {
  /** Streams a client may have open at once on one connection. */
  maxConcurrentStreams: 128,
  /** Request header block, decoded, in bytes (HTTP/1.1's default head limit is 16 KiB). */
  maxHeaderListSize: 64 * 1024,
  /** Header fields in one request. */
  maxHeaderListPairs: 256,
  /** Entries per SETTINGS frame. */
  maxSettings: 32,
  /** Unacknowledged pings. */
  maxOutstandingPings: 10,
  /** Memory (MB) one session may hold: queued output, open streams, header tables. */
  maxSessionMemory: 10,
  /** Streams refused (past the concurrency limit) before the connection is dropped. */
  maxSessionRejectedStreams: 100,
  /** Invalid frames tolerated before the connection is dropped. */
  maxSessionInvalidFrames: 100,
  /** Stream resets allowed at once, then per second. */
  streamResetBurst: 100,
  streamResetRate: 33,
} as const;

/** Time bounds shared with the HTTP/1.1 inner server. */
export interface H2Timeouts {
  /** A request (head and body) must arrive whole within this (ms). */
  readonly requestMs: number;
  /** A connection with no frame for this long is closed (ms). */
  readonly keepAliveMs: number;
}

/** Called for each request stream, with the connection's target. */
export type H2RequestHandler = (req: H2Request, res: H2Response, target: ExchangeTarget) => void;

/** The inner HTTP/2 server's type. */
export type H2Server = http2.Http2Server<typeof IncomingMessage, typeof ServerResponse, typeof H2Request, typeof H2Response>;

/** Builds the inner HTTP/2 server; it never listens: sockets arrive by `'connection'` after their handshake. */
export function createH2Server(timeouts: H2Timeouts, onRequest: H2RequestHandler, onError: (error: Error, where: string) => void): H2Server {
  const { maxConcurrentStreams, maxHeaderListSize, ...session } = H2_LIMITS;
  const server = http2.createServer({
    ...session,
    settings: { maxConcurrentStreams, maxHeaderListSize, enablePush: false },
    Http2ServerRequest: H2Request,
    Http2ServerResponse: H2Response,
  });
  server.on('session', (session: http2.ServerHttp2Session) => {
    const watch = new SessionWatch(session);
    session.on('stream', (stream: http2.ServerHttp2Stream) => watch.opened(stream));
    // Idle: nothing on the connection for the whole keep-alive time. Open streams (a model that
    // thinks for minutes) may finish (graceful close); a connection with none is dropped, which
    // also ends one nghttp2 has already sent GOAWAY on (it stops reading but keeps the socket).
    session.setTimeout(timeouts.keepAliveMs, () => watch.idle());
  });
  server.on('sessionError', (err: Error) => onError(err, 'http2 session'));
  server.on('request', (req: H2Request, res: H2Response) => {
    const target = (req.stream.session?.socket as InterceptedSocket | undefined)?.[TARGET];
    if (target === undefined) {
      req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    boundRequestTime(req, timeouts.requestMs);
    onRequest(req, res, target);
  });
  return server;
}

/**
 * A stream whose request does not arrive whole in time is cancelled (HTTP/1.1's `requestTimeout`):
 * the exchange holds a request body until it ends. Not a streamed one (gRPC, Connect): it goes
 * upstream as it arrives, and a bidirectional call keeps its request open as long as it lasts.
 */
function boundRequestTime(req: H2Request, ms: number): void {
  const stream = req.stream;
  // A request whose HEADERS ended the stream has arrived whole already: no timer.
  if (stream.endAfterHeaders || stream.readableEnded || streamsRequest(req.headers['content-type'])) return;
  const timer = setTimeout(() => {
    if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
  }, ms);
  timer.unref();
  const clear = (): void => clearTimeout(timer);
  stream.once('end', clear);
  stream.once('close', clear);
}

/** Per-connection bookkeeping: open streams, and the reset bucket against rapid reset. */
class SessionWatch {
  private open = 0;
  private tokens: number = H2_LIMITS.streamResetBurst;
  private refilled = performance.now();

  constructor(private readonly session: http2.ServerHttp2Session) {}

  opened(stream: http2.ServerHttp2Stream): void {
    this.open++;
    stream.once('close', () => {
      this.open--;
      // Reset with an error (by the client, or by a limit here); a stream that ends well closes with NO_ERROR.
      if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) this.reset();
    });
  }

  idle(): void {
    if (this.open === 0) this.session.destroy();
    else this.session.close();
  }

  private reset(): void {
    const now = performance.now();
    this.tokens = Math.min(H2_LIMITS.streamResetBurst, this.tokens + ((now - this.refilled) / 1000) * H2_LIMITS.streamResetRate);
    this.refilled = now;
    this.tokens--;
    if (this.tokens >= 0 || this.session.destroyed) return;
    this.session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    this.session.destroy();
  }
}
