/**
 * The seam between the interception engine (agent/proxy) and governance (shared/core, wired in
 * agent/pipeline). The engine knows sockets and HTTP; the gate knows policy. Neither imports the
 * other's internals: the engine calls `Gate.admit` once a request's head and (bounded) body are read,
 * forwards or answers as told, and feeds the response through the returned tap.
 *
 * Hot path: `admit` runs for every intercepted request, `ResponseTap.chunk` for every chunk. Keep
 * both allocation-light; a tap that only observes returns the very buffer it was given.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { AuditEntry, FrontDoor } from '../../shared/schema/audit.js';
import type { BypassAction, BypassKind } from '../../shared/schema/control.js';
import type { FailMode, Policy } from '../../shared/schema/policy.js';

/** An intercepted request, once its head and body have been read. */
export interface InterceptedRequest {
  /** Unique per request (also the audit record id). */
  readonly id: string;
  /** The host the client asked for (CONNECT authority or SNI), lower case, no port. */
  readonly host: string;
  readonly port: number;
  readonly method: string;
  /** Path and query as the client sent them. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The client application, from User-Agent or (where the OS tells) the process; null if unknown. */
  readonly app: string | null;
  /** `performance.now()` when the request head arrived. */
  readonly receivedAt: number;
  /** The front door the connection came through (default `proxy`). */
  readonly door?: FrontDoor;
  /**
   * The process that opened the connection, where the OS tells (Linux): looked up off the hot path,
   * so read it when recording (`current` is null until the lookup ends, and if it finds nothing).
   */
  readonly owner?: {
    readonly current: { readonly pid: number; readonly exe: string; readonly name: string } | null;
    /** Resolves once the lookup ended (for a decision that needs the process: a denied app by its executable). */
    readonly ready?: Promise<unknown>;
  };
  /**
   * The body is not read: it goes upstream as the client sends it, untouched (gRPC and Connect
   * streams, whose request may stay open while the answer streams back). `body` is empty; a gate
   * can only forward the call as it is, or refuse it, and learns its size through
   * `ResponseTap.requestBytes`.
   */
  readonly streamed?: boolean;
}

/**
 * Gateway mode: where a request goes instead of its provider when the central gateway holds the
 * provider key (agent/sync/gateway-route.ts builds it for an enrolled device).
 */
export interface GatewayRoute {
  /** The gateway's origin (`https://gateway.example.com`). */
  readonly origin: string;
  /** Connections to the gateway, its TLS verified as the sync connection's. */
  readonly dispatcher: Dispatcher;
  /** The gateway path for a request to `host` with `path`. */
  path(host: string, path: string): string;
  /** Added to the request (the device credential). */
  readonly headers: Readonly<Record<string, string>>;
}

/** Forward the request upstream (possibly rewritten) and watch the response through `tap`. */
export interface Forward {
  readonly kind: 'forward';
  /** Path and query to send upstream. */
  readonly path: string;
  /** Headers to send upstream (virtual key already swapped). The engine removes hop-by-hop ones. */
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
  /** Value of the `x-outpost-decision` header added to the client's response. */
  readonly decision: string;
  /** Null: not an AI API call (a web app's static asset, say): bytes pass untouched, nothing recorded. */
  readonly tap: ResponseTap | null;
  /** Gateway mode: send it to the central gateway rather than to the provider. */
  readonly via?: GatewayRoute;
}

/** Answer the client directly: the request never leaves the machine. */
export interface Respond {
  readonly kind: 'respond';
  readonly status: number;
  /** Includes content-type, `x-outpost-decision` and, for 429, `retry-after`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export type Admission = Forward | Respond;

/**
 * Watches one response on its way to the client. The engine calls `head` once, `chunk` for each
 * chunk in order, then exactly one of `end` or `fail` (or `refuse`, which ends it too).
 */
export interface ResponseTap {
  /**
   * True when the tap must see the body decoded: the engine then asks upstream for
   * `accept-encoding: identity`, and decodes a body that comes compressed anyway (gzip, deflate, br,
   * zstd where Node has it), so `head` and `chunk` see it decoded and the client gets it decoded
   * too. A tap that needs nothing from the body says false: its bytes pass untouched.
   */
  readonly readsBody: boolean;
  /**
   * Upstream status and headers arrived. Returns true when the tap may change the body's length
   * (redaction, stripping an injected usage chunk): the engine then drops content-length and sends
   * the body chunked.
   */
  head(status: number, headers: IncomingHttpHeaders): boolean;
  /**
   * A chunk on its way to the client. Return it unchanged (the common case: no copy), a
   * replacement, or null to hold it back for now (redaction across a chunk boundary).
   */
  chunk(data: Buffer): Buffer | null;
  /**
   * After `chunk` returned, true means stop: the engine ends the client's response after what it
   * has written (the tap's last replacement carried the final error event) and drops upstream.
   */
  readonly stopped: boolean;
  /**
   * Upstream's trailers, when it sent any (gRPC's `grpc-status` and `grpc-message`), just before
   * `end`. The engine passes them on to the client unchanged.
   */
  trailers?(trailers: IncomingHttpHeaders): void;
  /** A streamed request's body ended (or broke) after this many bytes; called before `end` or `fail` when the client finished first. */
  requestBytes?(bytes: number): void;
  /** Upstream finished; returns bytes still held (or null). The tap accounts and records. */
  end(): Buffer | null;
  /** The exchange broke: `upstream` reset/refused/timed out, or the `client` went away. Records as failed. */
  fail(error: Error, side: 'upstream' | 'client'): void;
  /**
   * Fail-open: the engine passes this response on as upstream sent it, unread, because it cannot
   * show the tap the body (`reason`: a content-coding it cannot decode, bytes not valid for their
   * coding, or a compressed body past the bound against decompression bombs). The tap notes `reason` for the record, drops what it
   * held (none of it reached the client) and passes later chunks untouched. May come before `head`
   * or after chunks; `end` or `fail` still follows.
   */
  unchecked(reason: string): void;
  /**
   * Fail-closed (or a compressed stream that passed the bound mid-way): the engine refuses this
   * response for `reason` and ends the exchange; nothing else follows. The tap records it as
   * blocked. `sent` false: the client has none of the response yet and gets the returned answer,
   * in the provider's shape; true: the engine breaks the client's connection (a broken stream, not a
   * short one that looks complete) and ignores the answer. May come before `head`.
   */
  refuse(reason: string, sent: boolean): Respond;
}

/**
 * A CONNECT-level event worth an audit record: a blocked host, a pinned client detected, or a host
 * the policy intercepts that was refused because the CA cannot sign for it (`uncertified`).
 */
export interface ConnectEvent {
  readonly host: string;
  readonly port: number;
  /** `bypass`: a try at reaching a governed host around governance, with what the agent did (`attempt`). */
  readonly outcome: 'blocked' | 'pinned' | 'uncertified' | 'bypass';
  readonly app: string | null;
  readonly reason: string;
  /** For `bypass`: what was tried and what the agent did. */
  readonly attempt?: BypassAttempt;
  /** The front door the connection came through (default `proxy`). */
  readonly door?: FrontDoor;
}

/** One bypass attempt: its kind and what the agent did with the connection or request. */
export interface BypassAttempt {
  readonly kind: BypassKind;
  readonly action: BypassAction;
}

/** How the policy treats pinned clients, names that disagree and IP literals without a server name. */
export type BypassPolicy = Pick<Policy['interception'], 'pinnedClients' | 'nameMismatch' | 'noServerName'>;

/** How a CONNECT's host is handled, decided before any TLS work. */
export type HostAction = 'intercept' | 'tunnel' | 'block';

/**
 * A WebSocket session the gate governs message by message (the Realtime API). The engine terminates
 * the WebSocket on both sides and hands over every text message; binary messages pass untouched.
 */
export interface WebSocketSession {
  /** A text message from the client: what to send upstream (null: nothing) and what to answer the client (null: nothing). */
  fromClient(text: string): { readonly forward: string | null; readonly reply: string | null };
  /** A text message from upstream on its way to the client (observed, passed unchanged). */
  fromServer(text: string): void;
  /** The session ended: `error` when it broke, null when it closed. */
  closed(error: string | null): void;
}

/** Governance as the engine sees it. */
export interface Gate {
  /** Classify a host (policy hosts with wildcards, bypass, blocked). Synchronous and cheap. */
  classify(host: string): HostAction;
  /** Decide on a request before anything leaves the machine. */
  admit(request: InterceptedRequest): Admission | Promise<Admission>;
  /**
   * A WebSocket upgrade (its request has no body) the gate governs message by message, an answer
   * refusing it, or null when its frames pass untouched. Absent: every upgrade passes.
   */
  websocket?(request: InterceptedRequest): WebSocketSession | Respond | null;
  /** Record a CONNECT-level event. */
  connect(event: ConnectEvent): void;
  /** The answer for a request whose body exceeded the bound, in the provider's error shape. */
  tooLarge(request: Omit<InterceptedRequest, 'body'>, limitBytes: number): Respond;
  /** The answer when upstream failed before any response byte (refused, reset, timed out). */
  upstreamFailed(request: InterceptedRequest, error: Error): Respond;
  /**
   * Calls `callback` once every audit record the gate has made so far is durable: at once when none
   * waits, else after the audit log's next commit (group commit: one transaction per event-loop turn).
   *
   * The ordering the crash guarantee rests on: the engine sends the bytes that complete a governed
   * response for the client (the last chunk of a length-delimited body, the chunked terminator, a
   * gate's own answer) only from this callback, called after the tap's `end()` (or `stopped`, or the
   * gate's answer) made the record. So a response the client received in full has its record, even
   * after kill -9. Nothing before the end waits: heads and stream chunks go out as they arrive.
   */
  whenRecorded(callback: () => void): void;
  /** The policy's fail mode (the PAC omits `; DIRECT` when closed). */
  readonly failMode: FailMode;
  /** Pinned clients, disagreeing names, IP literals without a server name: what the policy says. */
  readonly bypassPolicy: BypassPolicy;
}

/** Where audit entries go (the audit store's `AuditLog` is one). */
export interface AuditSink {
  record(entry: AuditEntry): void;
  /**
   * Calls `callback` once every record so far is durable (the `AuditLog` groups commits). A sink
   * without it is durable when `record` returns.
   */
  whenDurable?(callback: () => void): void;
}

/** Whether the audit log can take records now (the audit store's `AuditLog` is one). */
export interface AuditHealth {
  /** False when policy failMode is closed and the log cannot record: requests are then refused. */
  canAccept(): boolean;
  health(): { readonly reason?: string };
}
