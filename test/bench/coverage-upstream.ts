/**
 * The coverage bench's upstream, in its own process: one HTTPS server answering, by path, an OpenAI
 * chat completion (fixed JSON), an MCP `tools/call` (a JSON-RPC result echoing the request's id,
 * as a JSON body or an SSE event by the `x-bench-mcp` header), and a Bedrock ConverseStream (a fixed
 * binary event stream of 10 text deltas and a usage message, encoded once by the AWS SDK's codec).
 * Receives its certificate over IPC and answers its port.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { eventMessage } from '../support/fake/bedrock-api.js';

interface StartMessage {
  readonly cert: string;
  readonly key: string;
}

const CHAT = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today?', refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 },
  }),
);

const STREAM = Buffer.concat([
  eventMessage('messageStart', { role: 'assistant' }),
  ...Array.from({ length: 10 }, (_, i) => eventMessage('contentBlockDelta', { contentBlockIndex: 0, delta: { text: `word${i} ` } })),
  eventMessage('contentBlockStop', { contentBlockIndex: 0 }),
  eventMessage('messageStop', { stopReason: 'end_turn' }),
  eventMessage('metadata', { usage: { inputTokens: 12, outputTokens: 10, totalTokens: 22 }, metrics: { latencyMs: 1 } }),
]);

const ID = /"id":\s*("[^"]*"|\d+)/;

function mcpResult(body: Buffer): string {
  const id = ID.exec(body.toString('utf8'))?.[1] ?? 'null';
  return `{"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"text","text":"Ticket 42 matches: the printer is out of paper."}],"isError":false}}`;
}

process.once('message', (message: StartMessage) => {
  const server = https.createServer({ cert: message.cert, key: message.key, keepAliveTimeout: 120_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = req.url ?? '/';
      if (url === '/v1/chat/completions') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': CHAT.length });
        res.end(CHAT);
      } else if (url === '/mcp') {
        const result = mcpResult(body);
        if (req.headers['x-bench-mcp'] === 'sse') {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          res.end(`event: message\ndata: ${result}\n\n`);
        } else {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(result) });
          res.end(result);
        }
      } else if (url.endsWith('/converse-stream')) {
        res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'content-length': STREAM.length });
        res.end(STREAM);
      } else {
        res.writeHead(404).end();
      }
    });
  });
  server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('disconnect', () => process.exit(0));
});
