/**
 * One intercepted request/response exchange: read the body (bounded), ask the gate, forward through
 * the pooled upstream client, stream the response back through the tap.
 *
 * HOT PATH. Every intercepted request runs through here. One `Exchange` object is the undici
 * dispatch handler and carries all state, so a request allocates that object, the request record
 * the gate sees, and the header copies; response chunks are written as they arrive (never
 * concatenated) and flow control follows the client (`pause` upstream while the client's socket
 * is full).
 *
 * The end of a governed response waits for its audit record (`Gate.whenRecorded`): the bytes that
 * complete it for the client (chunked terminator, or the last bytes of a length-delimited body) go
 * out only once the record is committed, so a response received in full is always recorded. The
 * head and every earlier chunk go out at once: a stream's first byte waits for nothing.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { Admission, Forward, Gate, InterceptedRequest, Respond, ResponseTap } from '../pipeline/seam.js';
import { ProxyError } from './errors.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './hop-by-hop.js';
import type { Upstream } from './upstream.js';

const EMPTY = Buffer.alloc(0);

/** Counters the exchange updates (owned by the engine's stats). */
export interface ExchangeCounters {
  requests: number;
  failed: number;
}

/** What every exchange shares: built once per engine. */
export interface ExchangeContext {
  readonly gate: Gate;
  readonly upstream: Upstream;
  readonly maxBodyBytes: number;
  readonly counters: ExchangeCounters;
  /** Where a failing gate or tap is reported (the request itself goes on as the fail mode says). */
  readonly onError: (error: Error, where: string) => void;
}

/** The answer when the gate cannot even produce its own error answer. */
const INTERNAL_ERROR: Respond = {
  kind: 'respond',
  status: 502,
  headers: { 'content-type': 'application/json', 'x-outpost-decision': 'error' },
  body: JSON.stringify({ error: { message: 'Outpost hit an internal error handling this request.', type: 'internal_error', code: 'internal_error', param: null } }),
};

/** Where the request goes. */
export interface ExchangeTarget {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  /** False for plain-HTTP forwarding of non-policy hosts: no gate, no tap, bytes only. */
  readonly govern: boolean;
}

/**
 * Starts the exchange for `req` to `target` (shared by every request on one intercepted
 * connection), `path` in origin form; it finishes on its own.
 */
export function runExchange(ctx: ExchangeContext, req: IncomingMessage, res: ServerResponse, target: ExchangeTarget, path: string): void {
  ctx.counters.requests++;
  new Exchange(ctx, req, res, target, path).start();
}

class Exchange implements Dispatcher.DispatchHandler {
  private request: InterceptedRequest | null = null;
  private tap: ResponseTap | null = null;
  private decision = 'pass';
  private controller: Dispatcher.DispatchController | null = null;
  private chunks: Buffer[] | null = null;
  private received = 0;
  private settled = false;
  private corked = false;
  /** The end waits for `Gate.whenRecorded`: the tick's cork stays on until then. */
  private holding = false;
  /** Bytes of a length-delimited governed body still to come; -1 when not counted. */
  private remaining = -1;
  /** The bytes that complete a length-delimited body, held until the record is durable. */
  private tail: Buffer | null = null;
  private readonly receivedAt = performance.now();

  constructor(
    private readonly ctx: ExchangeContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly target: ExchangeTarget,
    private readonly path: string,
  ) {}

  start(): void {
    // Listeners are module functions that find the exchange through the emitter (`this`), so an
    // exchange allocates no closures for them.
    this.req[EXCHANGE] = this;
    this.res[EXCHANGE] = this;
    this.res.once('close', onResClose);
    const headers = this.req.headers;
    const length = headers['content-length'];
    if (length === undefined && headers['transfer-encoding'] === undefined) {
      this.bodyRead(EMPTY);
      return;
    }
    if (length !== undefined && Number(length) > this.ctx.maxBodyBytes) {
      this.tooLarge();
      return;
    }
    this.chunks = [];
    this.req.on('data', onReqData);
    this.req.once('end', onReqEnd);
  }

  /** A request body chunk (via {@link onReqData}). */
  bodyChunk(chunk: Buffer): void {
    this.received += chunk.length;
    if (this.received > this.ctx.maxBodyBytes) {
      this.req.off('data', onReqData);
      this.req.off('end', onReqEnd);
      this.chunks = null;
      this.tooLarge();
      return;
    }
    this.chunks?.push(chunk);
  }

  /** The request body ended (via {@link onReqEnd}). */
  bodyEnd(): void {
    const chunks = this.chunks ?? [];
    this.chunks = null;
    this.bodyRead(chunks.length === 1 ? (chunks[0] ?? EMPTY) : Buffer.concat(chunks, this.received));
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

  /** The gate itself failed: fail open forwards untouched (no tap), fail closed answers an error. */
  private admitFailed(error: Error): void {
    const request = this.request;
    if (this.settled || request === null) return;
    if (this.ctx.gate.failMode === 'open') {
      this.forward({ kind: 'forward', path: request.path, headers: request.headers, body: request.body, decision: 'error-open', tap: null });
    } else {
      this.ctx.counters.failed++;
      this.respond(this.answer(() => this.ctx.gate.upstreamFailed(request, error)));
    }
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
      this.res.writeHead(answer.status, answer.headers);
      this.res.end(answer.body);
    });
  }

  /**
   * Ends the client's response with `rest` (held by the tap) after `tail` (held by the engine), once
   * the gate says the exchange's record is durable. At the upstream's end the caller has already
   * uncorked this tick's chunks (they are not the end, so they do not wait); when the gate stopped
   * the stream its cork is kept until then (`flush` skips it) and `res.end` sends it with the end.
   */
  private endWhenRecorded(rest: Buffer | null): void {
    this.holding = true;
    this.ctx.gate.whenRecorded(() => {
      this.holding = false;
      const tail = this.tail;
      this.tail = null;
      if (tail !== null) this.res.write(tail);
      if (rest !== null) this.res.end(rest);
      else this.res.end();
    });
  }

  private forward(forward: Forward): void {
    this.tap = forward.tap;
    this.decision = forward.decision;
    const { upstream } = this.ctx;
    upstream.dispatcher.dispatch(
      {
        origin: upstream.origin(this.target.secure, this.target.host, this.target.port),
        path: forward.path,
        method: (this.req.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: upstreamRequestHeaders(forward.headers, forward.tap?.readsBody === true),
        body: forward.body.length === 0 && !hasBody(this.req.method) ? null : forward.body,
      },
      this,
    );
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(new ProxyError('PROXY_CLIENT_ABORTED', 'client went away'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    if (status < 200) return;
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
    if (this.tap !== null && !dropLength && typeof length === 'string') this.remaining = Number(length);
    this.res.writeHead(status, statusMessage ?? '', clientResponseHeaders(headers, this.target.govern ? this.decision : null, dropLength));
    // A stream's first event may be seconds away (a model thinking): send its head now. A
    // length-delimited body follows at once, so its head rides with the first chunk (one TLS
    // record and one syscall fewer per request).
    if (headers['content-length'] === undefined) this.res.flushHeaders();
    void controller;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
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
        this.endWhenRecorded(null);
        return;
      }
    }
    if (out === null) return;
    if (this.remaining >= 0) {
      this.remaining -= out.length;
      if (this.remaining <= 0) {
        // The bytes that complete the body: they leave with the end, once the record is durable.
        this.tail = this.tail === null ? out : Buffer.concat([this.tail, out]);
        return;
      }
    }
    // Chunks (and the end) that arrive in one tick leave in one write: one TLS record, one
    // syscall. Uncorked on the next tick, so nothing waits for a later chunk.
    if (!this.corked) {
      this.corked = true;
      this.res.cork();
      process.nextTick(uncork, this);
    }
    if (!this.res.write(out)) {
      controller.pause();
      this.res.once('drain', onResDrain);
    }
  }

  /** Called by {@link uncork} on the tick after a chunk was written. */
  flush(): void {
    if (!this.corked) return;
    this.corked = false;
    // Holding for the record: `res.end` flushes the corked bytes with the end.
    if (!this.holding) this.res.uncork();
  }

  /** The client's socket took what was written (via {@link onResDrain}). */
  drained(): void {
    this.controller?.resume();
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.settled = true;
    let rest: Buffer | null = null;
    const tap = this.tap;
    try {
      rest = tap === null ? null : tap.end();
    } catch (err) {
      this.ctx.onError(err as Error, 'response tap end');
    }
    if (tap !== null) {
      // The chunks written this tick are not the end: they leave now, so a response that arrived
      // in one tick (a whole stream) does not hold its first bytes for the commit. Only the
      // completing bytes (`rest`, the tail, the terminator) wait. `flush` then finds it holding.
      if (this.corked) {
        this.corked = false;
        this.res.uncork();
      }
      this.endWhenRecorded(rest);
      return;
    }
    const tail = this.tail;
    this.tail = null;
    if (tail !== null) this.res.write(tail);
    if (rest !== null) this.res.end(rest);
    else this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.ctx.counters.failed++;
    this.tapFail(error, 'upstream');
    const request = this.request;
    if (!this.res.headersSent && request !== null) {
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
    const error = new ProxyError('PROXY_CLIENT_ABORTED', 'client closed the connection before the response ended');
    this.ctx.counters.failed++;
    if (this.request !== null) this.tapFail(error, 'client');
    this.controller?.abort(error);
  }
}

/** Where a request or response finds its exchange. */
const EXCHANGE: unique symbol = Symbol('outpost.exchange');

declare module 'node:http' {
  interface IncomingMessage {
    [EXCHANGE]?: Exchange;
  }
  interface ServerResponse {
    [EXCHANGE]?: Exchange;
  }
}

function onReqData(this: IncomingMessage, chunk: Buffer): void {
  this[EXCHANGE]?.bodyChunk(chunk);
}

function onReqEnd(this: IncomingMessage): void {
  this[EXCHANGE]?.bodyEnd();
}

function onResDrain(this: ServerResponse): void {
  this[EXCHANGE]?.drained();
}

function onResClose(this: ServerResponse): void {
  this[EXCHANGE]?.clientClosed();
}

function uncork(exchange: Exchange): void {
  exchange.flush();
}

function hasBody(method: string | undefined): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== undefined;
}
