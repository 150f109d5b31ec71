/**
 * The shapes of heads and trailers the exchange handles beside plain requests: gRPC and Connect
 * streams (their body streams upstream unread), gRPC's Trailers-Only answer, and an HTTP/2
 * upstream's trailers.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { upstreamRequestHeaders } from './hop-by-hop.js';

/**
 * An HTTP/2 upstream's trailers. undici 7 hands its h2 trailers (an object) to a parser that reads
 * HTTP/1.1's raw name/value array, so `onResponseEnd` gets `{}`; its controller keeps what it was
 * given (`rawTrailers`), which for h2 is the object itself. Null when that is not the case.
 */
export function h2Trailers(controller: Dispatcher.DispatchController): Record<string, string | string[] | undefined> | null {
  const raw = (controller as { rawTrailers?: unknown }).rawTrailers;
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, string | string[] | undefined>) : null;
}

/**
 * gRPC's Trailers-Only answer (an error before any message) is one head that ends the stream, with
 * `grpc-status` and the trailing metadata in it. The engine sends heads ahead of bodies, and a gRPC
 * client reads a status only from a head that ended the stream or from trailers: so everything but
 * the content type (and the decision) moves to the trailers, which is the same answer in gRPC's
 * other shape (a head, no message, then the trailers).
 */
export function takeGrpcStatus(out: Record<string, string | string[]>): Record<string, string | string[]> {
  const moved: Record<string, string | string[]> = {};
  for (const name of Object.keys(out)) {
    if (name === 'content-type' || name === 'x-outpost-decision') continue;
    moved[name] = out[name] as string | string[];
    delete out[name];
  }
  return moved;
}

/** True when `headers` has any field. */
export function hasField(headers: object): boolean {
  for (const _ in headers) return true;
  return false;
}

/**
 * Requests whose body streams upstream unread: gRPC (`application/grpc…`) and Connect streams
 * (`application/connect+…`). Their client may keep its request open while answers arrive
 * (client-streaming and bidirectional calls), so reading it whole first would wait forever; no
 * adapter reads protobuf anyway. Hot path: one header test.
 */
export function streamsRequest(contentType: string | undefined): boolean {
  return contentType !== undefined && (contentType.startsWith('application/grpc') || contentType.startsWith('application/connect+'));
}

/** A streamed request's headers: its own length, when it said one, stays (undici would send the stream chunked). */
export function streamedHeaders(headers: OutgoingHttpHeaders, length: string | undefined): Record<string, string | string[]> {
  const out = upstreamRequestHeaders(headers, false);
  if (length !== undefined) out['content-length'] = length;
  return out;
}

/** True when a request with `method` may carry a body. */
export function hasBody(method: string | undefined): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== undefined;
}
