/**
 * Writing responses: JSON bodies and SSE streams, with the stream knobs (spacing, hold, reset).
 */
import { randomBytes } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Exchange } from './types.js';

/** The SSE content type both OpenAI and Anthropic send. */
export const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';

/** A random id with the provider's prefix: `chatcmpl-…`, `msg_…`, `req_…`. */
export function randomId(prefix: string, bytes = 12): string {
  return `${prefix}${randomBytes(bytes).toString('hex')}`;
}

/** A `data:` only SSE event (OpenAI chat completions, Gemini). */
export function dataEvent(payload: unknown): string {
  return `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;
}

/** A named SSE event (Anthropic messages, OpenAI Responses). */
export function namedEvent(name: string, payload: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`;
}

/** Answers a JSON body. */
export function sendJson(exchange: Exchange, status: number, headers: OutgoingHttpHeaders, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body));
  exchange.res.writeHead(status, { ...headers, 'content-length': bytes.length });
  exchange.res.end(bytes);
}

/**
 * Streams SSE events one write each (so each event leaves in its own TLS record), honouring
 * `chunkDelayMs` between events, `holdAfterEvents`, `streamErrorAfterEvents` (sending
 * `errorEvent`, the provider's in-stream error) and `resetAfterEvents`.
 */
export async function sendEvents(
  exchange: Exchange,
  headers: OutgoingHttpHeaders,
  events: readonly string[],
  errorEvent?: string,
): Promise<void> {
  const { res, knobs } = exchange;
  res.writeHead(200, headers);
  res.flushHeaders();
  for (let i = 0; i < events.length; i++) {
    if (i > 0 && knobs.chunkDelayMs > 0) await sleep(knobs.chunkDelayMs);
    if (knobs.holdAfterEvents === i) await exchange.held();
    if (knobs.streamErrorAfterEvents === i && errorEvent !== undefined) {
      res.end(errorEvent);
      return;
    }
    if (knobs.resetAfterEvents === i) {
      resetConnection(res.socket);
      return;
    }
    if (res.destroyed) return; // the client went away
    await new Promise<void>((resolve) => res.write(events[i], () => resolve()));
  }
  res.end();
}

/**
 * Drops the connection mid-response with a TCP reset, so the peer sees ECONNRESET as when a
 * provider's load balancer cuts a stream. A TLSSocket's own handle cannot reset (it is not a TCP
 * handle), so the reset goes to the TCP socket beneath it (Node's internal `_parent`); where that
 * is missing, a plain destroy (the peer sees the connection close early). Either way the chunked
 * body never ends, so clients must fail.
 */
function resetConnection(socket: Socket | null): void {
  if (!socket) return;
  const tcp = (socket as Socket & { _parent?: Socket | null })._parent ?? socket;
  try {
    tcp.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
