/**
 * One intercepted request/response exchange: read the body (bounded), ask the gate, forward through
 * the pooled upstream client, stream the response back through the tap.
 *
 * HOT PATH. Every intercepted request runs through here. One `Exchange` object is the undici
 * dispatch handler and carries all state, so a request allocates that object, the request record
 * the gate sees, and the header copies; response chunks are written as they arrive (never
 * concatenated) and flow control follows the client (`pause` upstream while the client holds a
 * window of unsent bytes).
 *
 * The end of a governed response waits for its audit record (`Gate.whenRecorded`): the bytes that
 * complete it for the client (chunked terminator, or the last bytes of a length-delimited body) go
 * out only once the record is committed, so a response received in full is always recorded. The
 * head and every earlier chunk go out at once: a stream's first byte waits for nothing.
 *
 * A compressed body the tap reads (upstream ignored `accept-encoding: identity`) is decoded on its
 * way (content-decoder.ts) and the client gets it decoded, without content-encoding or
 * content-length. Identity, the common case, costs one header lookup.
 */
import { randomUUID } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Admission, Forward, InterceptedRequest, Respond, ResponseTap } from '../pipeline/seam.js';
import { ClientWriter } from './client-writer.js';
import { EXCHANGE, type ExchangeContext, type ExchangeListener, type ExchangeRequest, type ExchangeResponse, type ExchangeTarget } from './exchange-types.js';
import { ContentDecoder, contentCodings, undecodable } from './content-decoder.js';
import { ProxyError } from './errors.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './hop-by-hop.js';
import { h2Trailers, hasBody, hasField, streamedHeaders, takeGrpcStatus } from './exchange-headers.js';
import { BoundedBody, bodyPlan } from './request-body.js';

const EMPTY = Buffer.alloc(0);

/** The answer when the gate cannot even produce its own error answer. */
const INTERNAL_ERROR: Respond = {
  kind: 'respond',
  status: 502,
  headers: { 'content-type': 'application/json', 'x-outpost-decision': 'error' },
  body: JSON.stringify({ error: { message: 'Outpost hit an internal error handling this request.', type: 'internal_error', code: 'internal_error', param: null } }),
};

/**
 * A compressed response as upstream sent it, kept while the client has none of it decoded: if the
 * decoder passes its bound first, fail-open sends this instead, unread.
 */
interface AsSent {
  readonly status: number;
  readonly statusMessage: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly chunks: Buffer[];
}

/**
 * Starts the exchange for `req` to `target` (shared by every request on one intercepted
 * connection), `path` in origin form; it finishes on its own.
 */
export function runExchange(ctx: ExchangeContext, req: ExchangeRequest, res: ExchangeResponse, target: ExchangeTarget, path: string): void {
  ctx.counters.requests++;
  new Exchange(ctx, req, res, target, path).start();
}

class Exchange implements Dispatcher.DispatchHandler, ExchangeListener {
  private request: InterceptedRequest | null = null;
  private tap: ResponseTap | null = null;
  private decision = 'pass';
  private controller: Dispatcher.DispatchController | null = null;
  /** The request body while it is read (bounded); null otherwise. */
  private body: BoundedBody | null = null;
  /** A streamed request body's bytes so far (for the tap). */
  private received = 0;
  private settled = false;
  /** Writes the response: a tick's chunks in one write, the end once the record is durable. */
  private readonly writer: ClientWriter;
  private readonly receivedAt = performance.now();
  /** Decodes a compressed body for the tap; null for identity (the common case). */
  private decoder: ContentDecoder | null = null;
  /** The response as sent, while the client has none of it decoded (see {@link AsSent}). */
  private asSent: AsSent | null = null;
  /** The request body streams upstream as it arrives (gRPC, Connect streams); not read or bounded here. */
  private streamed = false;
  /** gRPC status fields that came in the head (a Trailers-Only answer), sent as trailers at the end. */
  private headTrailers: Record<string, string | string[]> | null = null;

  constructor(
    private readonly ctx: ExchangeContext,
    private readonly req: ExchangeRequest,
    private readonly res: ExchangeResponse,
    private readonly target: ExchangeTarget,
    private readonly path: string,
  ) {
    this.writer = new ClientWriter(res, (fn) => ctx.gate.whenRecorded(fn));
  }

  start(): void {
    // Listeners are module functions that find the exchange through the emitter (`this`), so an
    // exchange allocates no closures for them.
    this.req[EXCHANGE] = this;
    this.res[EXCHANGE] = this;
    this.res.once('close', onResClose);
    const plan = bodyPlan(this.req, this.ctx.maxBodyBytes);
    if (plan === 'streamed') {
      // Not read here: it goes upstream as the client sends it, once the gate has seen the head.
      this.streamed = true;
      this.bodyRead(EMPTY);
      return;
    }
    if (plan === 'none') {
      this.bodyRead(EMPTY);
      return;
    }
    if (plan === 'too-large') {
      this.tooLarge();
      return;
    }
    this.body = new BoundedBody(this.ctx.maxBodyBytes);
    this.req.on('data', onReqData);
    this.req.once('end', onReqEnd);
  }

  /** A request body chunk (via {@link onReqData}). */
  bodyChunk(chunk: Buffer): void {
    if (this.body === null || this.body.add(chunk)) return;
    this.req.off('data', onReqData);
    this.req.off('end', onReqEnd);
    this.body = null;
    this.tooLarge();
  }

  /** The request body ended (via {@link onReqEnd}). */
  bodyEnd(): void {
    const body = this.body?.take() ?? EMPTY;
    this.body = null;
    this.bodyRead(body);
  }

  private record(body: Buffer): InterceptedRequest {
    const h = this.req.headers;
    return {
      id: randomUUID(),
      host: this.target.host,
      port: this.target.port,
      method: this.req.method ?? 'GET',
      path: this.path,
      headers: h,
      body,
      app: h['user-agent'] ?? null,
      receivedAt: this.receivedAt,
      door: this.target.door ?? 'proxy',
      ...(this.target.owner === undefined ? {} : { owner: this.target.owner }),
      ...(this.streamed ? { streamed: true } : {}),
    };
  }

  private tooLarge(): void {
    const { body: _omit, ...head } = this.record(EMPTY);
    // The rest of the body is never read: close the connection after answering.
    this.res.shouldKeepAlive = false;
    this.respond(this.answer(() => this.ctx.gate.tooLarge(head, this.ctx.maxBodyBytes)));
  }

  private bodyRead(body: Buffer): void {
    if (this.settled) return;
    const request = this.record(body);
    this.request = request;
    if (!this.target.govern) {
      this.forward({ kind: 'forward', path: request.path, headers: request.headers, body, decision: 'pass', tap: null });
      return;
    }
    let admission: Admission | Promise<Admission>;
    try {
      admission = this.ctx.gate.admit(request);
    } catch (err) {
      this.admitFailed(err as Error);
      return;
    }
    if (admission instanceof Promise) {
      admission.then(
        (a) => this.admitted(a),
        (e: Error) => this.admitFailed(e),
      );
    } else {
      this.admitted(admission);
    }
  }

  private admitted(admission: Admission): void {
    if (this.settled) return;
    if (admission.kind === 'respond') this.respond(admission);
    else this.forward(admission);
  }

  /**
   * The gate threw, which its contract forbids (it turns its own failures into decisions). The
   * request is answered with an error whatever the fail mode: forwarding it as the client sent it
   * would hand its virtual key to the provider, and only the gate knows how to strip one.
   */
  private admitFailed(error: Error): void {
    if (this.settled || this.request === null) return;
    this.ctx.onError(error, 'gate admit');
    this.ctx.counters.failed++;
    this.respond(INTERNAL_ERROR);
  }

  /** One of the gate's own answers; if producing it throws, a generic provider-shaped 502. */
  private answer(make: () => Respond): Respond {
    try {
      return make();
    } catch (err) {
      this.ctx.onError(err as Error, 'gate answer');
      return INTERNAL_ERROR;
    }
  }

  /**
   * A tap threw. The tap is dropped and reported; fail open keeps the bytes flowing untouched
   * (returns true), fail closed stops the exchange (false).
   */
  private tapFailed(error: unknown, where: string): boolean {
    this.ctx.onError(error as Error, `response tap ${where}`);
    this.tap = null;
    return this.ctx.gate.failMode === 'open';
  }

  private tapFail(error: Error, side: 'upstream' | 'client'): void {
    try {
      this.tap?.fail(error, side);
    } catch (err) {
      this.ctx.onError(err as Error, 'response tap fail');
    }
  }

  private respond(answer: Respond, force = false): void {
    if ((this.settled && !force) || this.res.headersSent) return;
    this.settled = true;
    // A streamed request's body was never read: the client must stop sending it.
    if (this.streamed) this.res.shouldKeepAlive = false;
    this.sendAnswer(answer);
  }

  /** Sends one of the gate's own answers; a governed one once its record is durable (the gate made it). */
  private sendAnswer(answer: Respond): void {
    if (!this.target.govern) {
      this.res.writeHead(answer.status, answer.headers);
      this.res.end(answer.body);
      return;
    }
    this.ctx.gate.whenRecorded(() => {
      if (this.res.destroyed) return;
      // A decoded response's head waits in `setHeader` until its first byte: the answer replaces it.
      for (const name of this.res.getHeaderNames()) this.res.removeHeader(name);
      this.res.writeHead(answer.status, answer.headers);
      this.res.end(answer.body);
    });
  }

  private forward(forward: Forward): void {
    this.tap = forward.tap;
    this.decision = forward.decision;
    const { upstream } = this.ctx;
    const via = forward.via;
    // Gateway mode: the same request, to the central gateway's forward route instead of the provider.
    const [dispatcher, h2] = via === undefined ? upstream.forRequest(forward.headers['content-type']) : [via.dispatcher, false];
    dispatcher.dispatch(
      {
        origin: via === undefined ? upstream.origin(this.target.secure, this.target.host, this.target.port) : via.origin,
        path: via === undefined ? forward.path : via.path(this.target.port === 443 ? this.target.host : `${this.target.host}:${this.target.port}`, forward.path),
        method: (this.req.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: this.streamed ? streamedHeaders(forward.headers, this.req.headers['content-length']) : upstreamRequestHeaders(forward.headers, forward.tap?.readsBody === true),
        body: this.streamed ? Readable.from(this.streamBody(), { objectMode: false }) : forward.body.length === 0 && !hasBody(this.req.method) ? null : forward.body,
        // undici holds a non-idempotent request (a POST: every AI call) until the connection has
        // none in flight, even on HTTP/2; the body is read whole and never replayed, so streams may
        // share an h2 connection. HTTP/1.1 connections still run one request at a time.
        ...(h2 ? { idempotent: true } : {}),
      },
      this,
    );
  }

  /**
   * A streamed request's body, chunk by chunk as the client sends it (flow control is the client's
   * stream's: undici pulls the next chunk once the last is written), counted for the tap.
   */
  private async *streamBody(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of this.req) {
        this.received += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    } finally {
      try {
        this.tap?.requestBytes?.(this.received);
      } catch (err) {
        this.ctx.onError(err as Error, 'response tap requestBytes');
      }
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(new ProxyError('PROXY_CLIENT_ABORTED', 'client went away'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    if (status < 200) return;
    const coding = headers['content-encoding'];
    if (coding !== undefined && this.tap?.readsBody === true && this.encodedHead(controller, status, headers, statusMessage ?? '', coding)) return;
    this.head(controller, status, headers, statusMessage ?? '', false);
  }

  /**
   * Upstream's head, for the tap and the client. `decoded`: the body is decoded on its way (its
   * coding and length already dropped from `headers`); unless it is a stream, the client's head
   * then waits (in `setHeader`) for the first byte, so a refusal before it can still answer.
   */
  private head(controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>, statusMessage: string, decoded: boolean): void {
    let dropLength = false;
    if (this.tap !== null) {
      try {
        dropLength = this.tap.head(status, headers);
      } catch (err) {
        if (!this.tapFailed(err, 'head')) {
          this.settled = true;
          controller.abort(err as Error);
          this.respond(INTERNAL_ERROR, true);
          return;
        }
      }
    }
    const length = headers['content-length'];
    // A governed length-delimited body is complete for the client at its last byte: count down to it.
    if (this.tap !== null && !dropLength && typeof length === 'string') this.writer.countDown(Number(length));
    const out = clientResponseHeaders(headers, this.target.govern ? this.decision : null, dropLength);
    if (out['grpc-status'] !== undefined) this.headTrailers = takeGrpcStatus(out);
    if (decoded && !String(headers['content-type']).includes('text/event-stream')) {
      this.res.statusCode = status;
      if (statusMessage !== '') this.res.statusMessage = statusMessage;
      for (const name in out) this.res.setHeader(name, out[name] as string | string[]);
      return;
    }
    this.res.writeHead(status, statusMessage, out);
    // A stream's first event may be seconds away (a model thinking): its head leaves this tick,
    // corked with whatever events arrived in the same read (one TLS record and one syscall for
    // both, as a length-delimited body's head rides with its first chunk). A decoded stream's head
    // leaves at once: a bomb found in the first chunk then breaks a stream the client saw start.
    if (headers['content-length'] === undefined) {
      if (!decoded) this.writer.corkTick();
      this.res.flushHeaders();
    }
    void controller;
  }

  /**
   * A head with a content-coding, for a tap that reads the body. Decodable: the tap and the client
   * see it decoded. Not (zstd on an older Node, an unknown or stacked coding): fail-closed refuses it,
   * fail-open passes it on as sent, unread. False: the coding was only `identity` after all.
   */
  private encodedHead(controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>, statusMessage: string, value: string | string[]): boolean {
    const codings = contentCodings(value);
    const coding = codings[0];
    if (coding === undefined) return false;
    const reason = undecodable(codings);
    if (reason !== null) {
      if (this.ctx.gate.failMode === 'closed') this.refuse(controller, reason);
      else {
        this.head(controller, status, headers, statusMessage, false);
        this.tapUnchecked(reason);
      }
      return true;
    }
    this.decoder = new ContentDecoder(coding, this.ctx.decompression);
    const decoded = { ...headers };
    delete decoded['content-encoding'];
    delete decoded['content-length'];
    this.head(controller, status, decoded, statusMessage, true);
    if (!this.settled && !this.res.headersSent) this.asSent = { status, statusMessage, headers, chunks: [] };
    return true;
  }

  private tapUnchecked(reason: string): void {
    try {
      this.tap?.unchecked(reason);
    } catch (err) {
      this.tapFailed(err, 'unchecked');
    }
  }

  /**
   * The engine refuses upstream's response (fail-closed, or a decoded stream past its bound): the
   * tap records it, the client gets the provider-shaped answer, or a broken stream once it has bytes.
   */
  private refuse(controller: Dispatcher.DispatchController, reason: string): void {
    this.settled = true;
    this.ctx.counters.failed++;
    this.decoder?.close();
    this.decoder = null;
    this.asSent = null;
    const error = new ProxyError('PROXY_RESPONSE_REFUSED', reason);
    controller.abort(error);
    const sent = this.res.headersSent;
    let answer = INTERNAL_ERROR;
    try {
      if (this.tap !== null) answer = this.tap.refuse(reason, sent);
    } catch (err) {
      this.ctx.onError(err as Error, 'response tap refuse');
    }
    if (sent) this.res.destroy(error);
    else this.sendAnswer(answer);
  }

  /** A compressed chunk: decoded, then on like any chunk. */
  private decodeChunk(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const asSent = this.asSent;
    asSent?.chunks.push(chunk);
    let out: Buffer | null;
    try {
      out = (this.decoder as ContentDecoder).decode(chunk);
    } catch (err) {
      this.decodeFailed(controller, err as Error);
      return;
    }
    if (out !== null) this.deliver(controller, out);
    if (asSent !== null && this.res.headersSent) this.asSent = null;
  }

  /** Upstream ended a compressed body: its last decoded bytes. False when that ended the exchange. */
  private decodeEnd(controller: Dispatcher.DispatchController): boolean {
    const decoder = this.decoder as ContentDecoder;
    let out: Buffer | null;
    try {
      out = decoder.finish();
    } catch (err) {
      this.decodeFailed(controller, err as Error);
      return !this.settled;
    }
    this.decoder = null;
    this.asSent = null;
    if (out !== null) this.deliver(controller, out);
    return !this.settled;
  }

  /**
   * The decoder passed its bound (a decompression bomb, or more than the agent inspects) or met
   * bytes that are not valid for the coding: output guardrails cannot read the rest. Fail-open
   * passes the response on as sent while the client has none of it decoded; otherwise it is
   * refused (a decoded stream cannot switch back to the compressed bytes mid-way).
   */
  private decodeFailed(controller: Dispatcher.DispatchController, error: Error): void {
    this.decoder?.close();
    this.decoder = null;
    const asSent = this.asSent;
    this.asSent = null;
    if (this.ctx.gate.failMode === 'open' && asSent !== null && !this.res.headersSent) this.passAsSent(asSent, error.message);
    else this.refuse(controller, error.message);
  }

  /** Fail-open, unreadable: the client gets the response as upstream sent it. */
  private passAsSent(asSent: AsSent, reason: string): void {
    this.tapUnchecked(reason);
    for (const name of this.res.getHeaderNames()) this.res.removeHeader(name);
    this.res.writeHead(asSent.status, asSent.statusMessage, clientResponseHeaders(asSent.headers, this.decision, true));
    for (const chunk of asSent.chunks) this.res.write(chunk);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.decoder === null) this.deliver(controller, chunk);
    else this.decodeChunk(controller, chunk);
  }

  /** A chunk of the body as the client gets it (decoded, if it came compressed): through the tap, out. */
  private deliver(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const tap = this.tap;
    let out: Buffer | null = chunk;
    if (tap !== null) {
      let stopped: boolean;
      try {
        out = tap.chunk(chunk);
        stopped = tap.stopped;
      } catch (err) {
        if (!this.tapFailed(err, 'chunk')) {
          this.settled = true;
          controller.abort(err as Error);
          this.res.destroy(err as Error);
          return;
        }
        out = chunk;
        stopped = false;
      }
      if (stopped) {
        if (out !== null) this.res.write(out);
        this.settled = true;
        controller.abort(new ProxyError('PROXY_CLIENT_ABORTED', 'stopped by the gate'));
        this.writer.endWhenRecorded(null);
        return;
      }
    }
    if (out === null) return;
    if (!this.writer.write(out)) {
      controller.pause();
      this.ctx.counters.paused++;
      this.res.once('drain', onResDrain);
    }
  }

  /** The client's socket took what was written (via {@link onResDrain}). */
  drained(): void {
    this.controller?.resume();
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    if (this.settled) return;
    if (this.decoder !== null && !this.decodeEnd(controller)) return;
    this.settled = true;
    let rest: Buffer | null = null;
    const tap = this.tap;
    // Trailers (gRPC's status lives there) go to the tap and on to the client with the end: HTTP/2
    // sends them as a last HEADERS frame, HTTP/1.1 in the chunked terminator.
    trailers = h2Trailers(controller) ?? trailers;
    if (this.headTrailers !== null) trailers = { ...this.headTrailers, ...trailers };
    if (trailers !== undefined && hasField(trailers)) {
      try {
        tap?.trailers?.(trailers);
      } catch (err) {
        this.ctx.onError(err as Error, 'response tap trailers');
      }
      this.res.addTrailers(trailers as OutgoingHttpHeaders);
    }
    try {
      rest = tap === null ? null : tap.end();
    } catch (err) {
      this.ctx.onError(err as Error, 'response tap end');
    }
    if (tap !== null) {
      // The chunks written this tick are not the end: they leave now, so a response that arrived
      // in one tick (a whole stream) does not hold its first bytes for the commit. Only the
      // completing bytes (`rest`, the tail, the terminator) wait.
      this.writer.releaseTick();
      this.writer.endWhenRecorded(rest);
      return;
    }
    this.writer.end(rest);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.settled) return;
    this.settled = true;
    // A decoded body's head may still wait in `setHeader`, but upstream's head came and the tap
    // recorded the failure with it: the exchange breaks as any started response does.
    const started = this.decoder !== null;
    this.decoder?.close();
    this.ctx.counters.failed++;
    this.tapFail(error, 'upstream');
    const request = this.request;
    if (!this.res.headersSent && !started && request !== null) {
      const answer = this.answer(() => this.ctx.gate.upstreamFailed(request, error));
      this.res.shouldKeepAlive = false;
      this.sendAnswer(answer);
      return;
    }
    // Mid-stream: the client must see a broken stream, not a short one that looks complete.
    this.res.destroy(error);
  }

  /** The client's response closed, finished or not (via {@link onResClose}). */
  clientClosed(): void {
    if (this.settled || this.res.writableFinished) return;
    this.settled = true;
    this.decoder?.close();
    const error = new ProxyError('PROXY_CLIENT_ABORTED', 'client closed the connection before the response ended');
    this.ctx.counters.failed++;
    if (this.request !== null) this.tapFail(error, 'client');
    this.controller?.abort(error);
  }
}

function onReqData(this: ExchangeRequest, chunk: Buffer): void {
  this[EXCHANGE]?.bodyChunk(chunk);
}

function onReqEnd(this: ExchangeRequest): void {
  this[EXCHANGE]?.bodyEnd();
}

function onResDrain(this: ExchangeResponse): void {
  this[EXCHANGE]?.drained();
}

function onResClose(this: ExchangeResponse): void {
  this[EXCHANGE]?.clientClosed();
}
