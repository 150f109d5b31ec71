/**
 * Calls on intercepted hosts that no adapter reads (issue 16): an endpoint the adapters do not know
 * (a new API, an upload, a web app's side channel) or an opaque protocol (Cursor's protobuf). They
 * are forwarded untouched, never silently: each one that sends something (any method but GET, HEAD
 * and OPTIONS; every call on an opaque host) gets an audit record with its path, sizes, status and
 * latency, and is counted by endpoint for `outpost status`, so an administrator sees the coverage
 * gaps. Reads (GET) of a web app's pages and assets are not recorded: they carry no prompt.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AuditEntry, FiredRule } from '../../shared/schema/audit.js';
import type { UnreadReason, UnreadSummary } from '../../shared/schema/control.js';
import { grpcStatusText } from '../../shared/providers/grpc.js';
import { auditEntry, NO_USAGE, type EntryBase } from './gate-audit.js';
import { decisionHeader, errorAnswer } from './gate-respond.js';
import type { Respond, ResponseTap } from './seam.js';

/** Distinct endpoints kept for status (the least recently seen goes first). */
const MAX_ENDPOINTS = 50;

/** Methods that send nothing worth a record on an endpoint the adapters do not know. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** True when an unknown-endpoint call is recorded (it may carry data out). */
export function sendsData(method: string): boolean {
  return !READS.has(method);
}

/** The path without its query (a query may carry a key), ids folded for counting. */
export function barePath(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

/**
 * Path segments that are ids fold to `{id}`, so one endpoint counts once: UUIDs, long hex, numbers,
 * and long tokens with a digit in them (`file-abc123…`; a long word such as an RPC's method name has none).
 */
const ID_SEGMENT = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,}|\d+|(?=[A-Za-z_-]*\d)[A-Za-z0-9_-]{20,})$/i;

function endpointKey(path: string): string {
  return path
    .split('/')
    .map((seg) => (ID_SEGMENT.test(seg) ? '{id}' : seg))
    .join('/');
}

type Endpoint = UnreadSummary['endpoints'][number];

/** The counts behind `status.unread`. */
export class UnreadLog {
  private total = 0;
  private requestBytes = 0;
  private responseBytes = 0;
  /** Insertion order is recency: a hit moves its endpoint to the end. */
  private readonly endpoints = new Map<string, Endpoint>();

  constructor(private readonly now: () => number) {}

  /** Counts one call as it is forwarded. */
  note(host: string, method: string, path: string, reason: UnreadReason, bytes: number): void {
    this.total++;
    this.requestBytes += bytes;
    const folded = endpointKey(path);
    const key = `${host} ${method} ${folded}`;
    const at = new Date(this.now()).toISOString();
    const seen = this.endpoints.get(key);
    if (seen !== undefined) this.endpoints.delete(key);
    else if (this.endpoints.size >= MAX_ENDPOINTS) this.endpoints.delete(this.endpoints.keys().next().value as string);
    this.endpoints.set(key, { host, method, path: folded, reason, count: (seen?.count ?? 0) + 1, lastAt: at });
  }

  /** Counts bytes of an answer once it is complete. */
  answered(bytes: number): void {
    this.responseBytes += bytes;
  }

  /** Totals and the endpoints, most recent last. */
  summary(): UnreadSummary {
    return { total: this.total, requestBytes: this.requestBytes, responseBytes: this.responseBytes, endpoints: [...this.endpoints.values()].map((e) => ({ ...e })) };
  }
}

/** What an unread tap records with. */
export interface UnreadTapContext {
  readonly base: EntryBase;
  readonly rule: FiredRule;
  readonly path: string;
  readonly log: UnreadLog;
  readonly record: (entry: AuditEntry) => void;
}

/**
 * The tap of an unread call: bytes pass untouched (`readsBody` false: nothing is decoded), only
 * counted; the end writes the one record.
 */
export class UnreadTap implements ResponseTap {
  readonly readsBody = false;
  readonly stopped = false;
  private status: number | null = null;
  private ttfbMs: number | null = null;
  private bytes = 0;
  private done = false;
  /** gRPC's status (`0 (OK)`), from the trailers or a trailers-only head; null for anything else. */
  private grpcStatus: string | null = null;
  /** A streamed request's size (its body was never in `request.body`). */
  private streamedBytes: number | null = null;

  constructor(private readonly ctx: UnreadTapContext) {}

  head(status: number, headers: IncomingHttpHeaders): boolean {
    this.status = status;
    this.ttfbMs = performance.now() - this.ctx.base.request.receivedAt;
    this.grpcStatus = grpcStatusText(headers['grpc-status']);
    return false;
  }

  requestBytes(bytes: number): void {
    this.streamedBytes = bytes;
  }

  trailers(trailers: IncomingHttpHeaders): void {
    this.grpcStatus = grpcStatusText(trailers['grpc-status']) ?? this.grpcStatus;
  }

  chunk(data: Buffer): Buffer {
    this.bytes += data.length;
    return data;
  }

  end(): null {
    this.finish('allow', null);
    return null;
  }

  fail(error: Error, side: 'upstream' | 'client'): void {
    this.finish(side === 'upstream' ? 'error' : 'allow', `${side === 'upstream' ? 'upstream' : 'client'} failed: ${error.message}`);
  }

  unchecked(): void {
    // Nothing is read anyway.
  }

  refuse(reason: string, _sent: boolean): Respond {
    this.finish('block', reason);
    return errorAnswer(null, 'response_refused', `Outpost refused this response: ${reason}`, decisionHeader('block', 'response_refused', []));
  }

  private finish(decision: AuditEntry['decision'], error: string | null): void {
    if (this.done) return;
    this.done = true;
    const { base, rule, path, log, record } = this.ctx;
    log.answered(this.bytes);
    // A gRPC call's outcome is its grpc-status (HTTP says 200 either way); its message is the
    // server's text and stays out of the record.
    const grpc = this.grpcStatus;
    const rules = grpc === null ? [rule] : [{ ...rule, explanation: `${rule.explanation}; grpc-status ${grpc}` }];
    const failed = grpc !== null && !grpc.startsWith('0 ') ? `grpc-status ${grpc}` : null;
    const entry = auditEntry(base, { decision, rules, status: this.status, error: error ?? failed, latencyMs: performance.now() - base.request.receivedAt, ttfbMs: this.ttfbMs, ...NO_USAGE });
    record({ ...entry, path, requestBytes: this.streamedBytes ?? base.request.body.length, responseBytes: this.bytes });
  }
}
