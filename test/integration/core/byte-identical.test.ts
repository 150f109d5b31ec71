/**
 * When no rule changes an answer, the client receives exactly the bytes the provider sent, with the
 * output guardrails on: streamed (SSE split mid-event and mid-character across writes) and JSON
 * (pretty-printed, escapes and key order as the provider chose). A re-serialising proxy would turn
 * `\u00e9` into `é`, reorder keys or drop whitespace; a proxy that decodes each network chunk on
 * its own would turn a split character into U+FFFD. Real engine, real gate, real TLS.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatcherFor } from '../../support/clients.js';
import { closeServer, listenOnFreePort } from '../../support/ports.js';
import { rawRequest, type RawResponse } from '../../support/raw-request.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';
import { startGatewayWorld, type GatewayWorld } from './world.js';

const CHAT = 'https://api.openai.com/v1/chat/completions';
/** Output guardrails that would change a matching answer; these answers match none of them. */
const GUARDRAILS = [
  { id: 'pii', type: 'pii' as const, on: ['output' as const], action: 'redact' as const },
  { id: 'secrets', type: 'secrets' as const, on: ['output' as const], action: 'redact' as const },
];
/** Multi-byte UTF-8 of every length: 2 (é), 3 (中, ‚), 4 (🙂). */
const PIECES = ['Bonjour, ça va ? ', '中文的回答，', ' ‚quoted‚ and 🙂 emoji', ' — done.'];

function sseEvent(delta: Record<string, unknown>, finish: string | null, index: number): string {
  // Key order, spacing and the escaped é below are the provider's choice, not JSON.stringify's.
  const choice = `{"index":0,"delta":${JSON.stringify(delta)},"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`}}`;
  return `data: {"id":"chatcmpl-Bx1","object":"chat.completion.chunk","created":1733400000,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_${index}","choices":[${choice}]}\n\n`;
}

/** The provider's whole stream, as bytes. */
const STREAM = Buffer.from(
  [
    sseEvent({ role: 'assistant', content: '', refusal: null }, null, 0),
    ...PIECES.map((p, i) => sseEvent({ content: p }, null, i + 1)),
    sseEvent({}, 'stop', 9),
    `data: {"id":"chatcmpl-Bx1","object":"chat.completion.chunk","created":1733400000,"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":21,"total_tokens":33}}\n\n`,
    'data: [DONE]\n\n',
  ].join(''),
  'utf8',
);

/** The provider's JSON answer: pretty-printed, with an escaped é as some providers send it. */
const JSON_ANSWER = Buffer.from(
  `{\n  "id": "chatcmpl-Bx2",\n  "object": "chat.completion",\n  "created": 1733400001,\n  "model": "gpt-4o-mini-2024-07-18",\n  "choices": [\n    {\n      "index": 0,\n      "message": {\n        "role": "assistant",\n        "content": "Caf\\u00e9 ${PIECES.join('')}",\n        "refusal": null,\n        "annotations": []\n      },\n      "logprobs": null,\n      "finish_reason": "stop"\n    }\n  ],\n  "usage": {\n    "prompt_tokens": 12,\n    "completion_tokens": 21,\n    "total_tokens": 33\n  },\n  "service_tier": "default",\n  "system_fingerprint": "fp_b1"\n}\n`,
  'utf8',
);

/** Cut points that fall inside multi-byte characters and inside events (byte offsets). */
function awkwardCuts(bytes: Buffer): number[] {
  const cuts: number[] = [];
  for (let i = 1; i < bytes.length; i++) {
    const b = bytes[i] ?? 0;
    // A continuation byte (10xxxxxx): cutting before it splits a character.
    if ((b & 0xc0) === 0x80) cuts.push(i);
  }
  // And a few cuts inside the `data: ` prefix and between the two newlines of a boundary.
  const boundary = bytes.indexOf('\n\n');
  if (boundary > 0) cuts.push(3, boundary + 1);
  return [...new Set(cuts)].sort((a, b) => a - b);
}

/** Writes `bytes` as separate writes at `cuts`, each after the previous one left the process. */
async function writeInPieces(res: ServerResponse, bytes: Buffer, cuts: number[]): Promise<void> {
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut <= from) continue;
    const flushed = res.write(bytes.subarray(from, cut));
    from = cut;
    await new Promise<void>((resolve) => (flushed ? setImmediate(resolve) : res.once('drain', () => resolve())));
  }
  res.end();
}

async function bodyBytes(res: RawResponse): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of res.body) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

describe('answers no rule changes reach the client byte for byte', () => {
  let upstreamCa: TestCa;
  let upstream: Server;
  let g: GatewayWorld;
  let client: ReturnType<typeof dispatcherFor>;

  beforeAll(async () => {
    upstreamCa = await createTestCa('Byte-identical upstream CA');
    const leaf = upstreamCa.issue(['api.openai.com']);
    upstream = createServer({ cert: leaf.cert, key: leaf.key }, (req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.once('end', () => {
        const stream = req.headers['x-test-stream'] === '1';
        res.writeHead(200, { 'content-type': stream ? 'text/event-stream; charset=utf-8' : 'application/json', 'openai-processing-ms': '42' });
        const bytes = stream ? STREAM : JSON_ANSWER;
        void writeInPieces(res, bytes, awkwardCuts(bytes));
      });
    });
    const port = await listenOnFreePort(upstream);
    g = await startGatewayWorld({ guardrails: GUARDRAILS }, {}, { resolve: { 'api.openai.com': `127.0.0.1:${port}` }, upstreamCaFile: upstreamCa.caFile });
    client = dispatcherFor({ proxyUrl: g.proxyUrl, ca: g.caPem });
  });
  afterAll(async () => {
    await client?.close();
    await g?.close();
    if (upstream) await closeServer(upstream);
    await upstreamCa?.dispose();
  });

  it('a stream split inside characters and events arrives identical, and its text and usage are still read', async () => {
    expect(awkwardCuts(STREAM).length).toBeGreaterThan(20);
    const res = await rawRequest(client, CHAT, {
      headers: { 'x-test-stream': '1' },
      json: { model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'say hello' }] },
    });
    const got = await bodyBytes(res);
    expect(res.statusCode).toBe(200);
    expect(got.toString('utf8')).toBe(STREAM.toString('utf8'));
    expect(got.equals(STREAM)).toBe(true);
    const record = g.audit.at(-1);
    expect(record?.decision).toBe('allow');
    expect(record?.outputTokens).toBe(21);
  });

  it('a pretty-printed JSON answer with escapes arrives identical', async () => {
    const res = await rawRequest(client, CHAT, { json: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'say hello' }] } });
    const got = await bodyBytes(res);
    expect(res.statusCode).toBe(200);
    expect(got.equals(JSON_ANSWER)).toBe(true);
    expect(g.audit.at(-1)?.inputTokens).toBe(12);
  });
});
