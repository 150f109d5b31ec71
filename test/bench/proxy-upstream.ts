/**
 * The benchmark's fake OpenAI upstream, run in its own process (its own event loop, so it does not
 * share CPU time with the proxy being measured on the same thread). Answers chat completions with a
 * fixed JSON body, or a fixed 10-event SSE stream when the request body asks for `"stream":true`,
 * ending with a usage chunk when it asks for one (`stream_options.include_usage`, as OpenAI does:
 * Outpost's gate asks for it on every chat stream). A request with `x-bench-stream-bytes: N` gets
 * a stream of about N bytes of ~1 KB text deltas instead, written as fast as the reader takes it.
 * Started by proxy.bench.ts with `fork`; receives its certificate over IPC and answers its port.
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

interface StartMessage {
  readonly cert: string;
  readonly key: string;
  /** Idle keep-alive (ms; default 120 s); the soak bench shortens it so the agent's upstream pool drains while idle. */
  readonly keepAliveMs?: number;
  /** Offer HTTP/2 beside HTTP/1.1 (the h2 bench's upstream, as providers' front ends do). */
  readonly http2?: boolean;
}

const JSON_BODY = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today?', refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 },
    system_fingerprint: 'fp_bench',
  }),
);

const EVENTS = Array.from({ length: 10 }, (_, i) =>
  Buffer.from(
    `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content: `word${i} ` }, finish_reason: null }] })}\n\n`,
  ),
);
const USAGE = Buffer.from(
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 12, completion_tokens: 10, total_tokens: 22 } })}\n\n`,
);
const DONE = Buffer.from('data: [DONE]\n\n');
const JSON_HEADERS = { 'content-type': 'application/json', 'content-length': JSON_BODY.length, 'x-request-id': 'req_bench' };
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': 'req_bench' };
const STREAM_FLAG = Buffer.from('"stream":true');
/** Asks for a large stream of this many bytes (the bench's large-stream row). */
const LARGE_HEADER = 'x-bench-stream-bytes';
/** 16 events of ~1 KB of words each: one write of the large stream. */
const LARGE_BATCH = Buffer.from(
  Array.from({ length: 16 }, (_, i) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content: Array.from({ length: 128 }, (_, w) => `w${(i * 128 + w) % 1000}`).join(' ') + ' ' }, finish_reason: null }] })}\n\n`,
  ).join(''),
);

/** Writes about `bytes` of text deltas, waiting whenever the socket's buffer is full. */
async function writeLarge(res: ServerResponse, bytes: number, withUsage: boolean): Promise<void> {
  for (let sent = 0; sent < bytes; sent += LARGE_BATCH.length) {
    if (!res.write(LARGE_BATCH)) await once(res, 'drain');
    if (res.destroyed) return;
  }
  if (withUsage) res.write(USAGE);
  res.end(DONE);
}
const USAGE_FLAG = Buffer.from('"include_usage":true');

process.once('message', (message: StartMessage) => {
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const large = Number(req.headers[LARGE_HEADER] ?? 0);
      if (large > 0) {
        res.writeHead(200, SSE_HEADERS);
        void writeLarge(res, large, body.includes(USAGE_FLAG));
      } else if (body.includes(STREAM_FLAG)) {
        res.writeHead(200, SSE_HEADERS);
        for (const e of EVENTS) res.write(e);
        if (body.includes(USAGE_FLAG)) res.write(USAGE);
        res.end(DONE);
      } else {
        res.writeHead(200, JSON_HEADERS);
        res.end(JSON_BODY);
      }
    });
  };
  // HTTP/2's compatibility request and response serve the same handler.
  const server =
    message.http2 === true
      ? http2.createSecureServer({ cert: message.cert, key: message.key, allowHTTP1: true }, handle as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void)
      : https.createServer({ cert: message.cert, key: message.key, keepAliveTimeout: message.keepAliveMs ?? 120_000 }, handle);
  server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
    process.send?.({ port: (server.address() as AddressInfo).port });
  });
  process.on('disconnect', () => process.exit(0));
});
