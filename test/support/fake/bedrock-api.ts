/**
 * AWS Bedrock runtime (`bedrock-runtime.{region}.amazonaws.com`): `POST /model/{modelId}/converse`,
 * `/converse-stream`, `/invoke` and `/invoke-with-response-stream`, as the AWS SDK reads them.
 * Streams are AWS's binary event stream (`application/vnd.amazon.eventstream`), each message in its
 * own write, encoded by the SDK's own codec: ConverseStream sends `messageStart`,
 * `contentBlockDelta`×n, `contentBlockStop`, `messageStop`, `metadata` (usage); an invoke stream
 * sends `chunk` messages whose `bytes` are the model's own events (Anthropic's, for Anthropic
 * models), the last with `amazon-bedrock-invocationMetrics`. Errors are AWS JSON with
 * `x-amzn-errortype`. Requests are not signature-checked (the SDK signs them; the fake trusts it).
 */
import { randomUUID } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { answerText, contentText, fakeTokenCount, splitIntoChunks } from './text.js';
import type { ErrorKnob, Exchange, FakeApi } from './types.js';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** One event stream message: an event of `type` with a JSON payload. */
export function eventMessage(type: string, payload: unknown): Buffer {
  return Buffer.from(
    codec.encode({
      headers: {
        ':event-type': { type: 'string', value: type },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: 'event' },
      },
      body: fromUtf8(JSON.stringify(payload)),
    }),
  );
}

function awsHeaders(contentType: string): OutgoingHttpHeaders {
  return { 'content-type': contentType, 'x-amzn-requestid': randomUUID() };
}

function sendBedrockError(exchange: Exchange, error: ErrorKnob): void {
  const type = error.type ?? (error.status === 429 ? 'ThrottlingException' : error.status === 403 ? 'AccessDeniedException' : error.status >= 500 ? 'InternalServerException' : 'ValidationException');
  const body = JSON.stringify({ message: error.message ?? `Fake Bedrock error ${error.status}.` });
  exchange.res.writeHead(error.status, { ...awsHeaders('application/json'), 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`, 'content-length': Buffer.byteLength(body) }).end(body);
}

interface Prompt {
  readonly all: string;
  readonly last: string;
}

/** Converse and Anthropic bodies: system and messages, the last user text. */
function promptOf(body: Record<string, unknown>): Prompt {
  const messages = Array.isArray(body.messages) ? (body.messages as Array<{ role?: unknown; content?: unknown }>) : [];
  const system = Array.isArray(body.system) ? contentText(body.system) : typeof body.system === 'string' ? body.system : '';
  const user = [...messages].reverse().find((m) => m.role === 'user');
  return { all: [system, ...messages.map((m) => contentText(m.content))].join('\n'), last: user ? contentText(user.content) : '' };
}

async function writeMessages(exchange: Exchange, messages: readonly Buffer[]): Promise<void> {
  const { res, knobs } = exchange;
  res.writeHead(200, { ...awsHeaders('application/vnd.amazon.eventstream'), 'x-amzn-bedrock-content-type': 'application/json' });
  for (let i = 0; i < messages.length; i++) {
    if (knobs.holdAfterEvents === i) await exchange.held();
    if (res.destroyed) return;
    await new Promise<void>((resolve) => res.write(messages[i] as Buffer, () => resolve()));
  }
  res.end();
}

function handleConverse(exchange: Exchange, model: string, stream: boolean): Promise<void> | void {
  const { all, last } = promptOf(exchange.body);
  const text = exchange.knobs.text ?? answerText(model, last);
  const usage = { inputTokens: fakeTokenCount(all), outputTokens: fakeTokenCount(text), totalTokens: fakeTokenCount(all) + fakeTokenCount(text) };
  if (!stream) {
    const body = JSON.stringify({ output: { message: { role: 'assistant', content: [{ text }] } }, stopReason: 'end_turn', usage, metrics: { latencyMs: 42 } });
    exchange.res.writeHead(200, { ...awsHeaders('application/json'), 'content-length': Buffer.byteLength(body) }).end(body);
    return;
  }
  const messages = [
    eventMessage('messageStart', { role: 'assistant' }),
    ...splitIntoChunks(text, exchange.knobs.chunks).map((piece) => eventMessage('contentBlockDelta', { contentBlockIndex: 0, delta: { text: piece } })),
    eventMessage('contentBlockStop', { contentBlockIndex: 0 }),
    eventMessage('messageStop', { stopReason: 'end_turn' }),
    eventMessage('metadata', { usage, metrics: { latencyMs: 42 } }),
  ];
  return writeMessages(exchange, messages);
}

/** InvokeModel for an Anthropic model (the Messages shape inside Bedrock). */
function handleInvoke(exchange: Exchange, model: string, stream: boolean): Promise<void> | void {
  const { all, last } = promptOf(exchange.body);
  const text = exchange.knobs.text ?? answerText(model, last);
  const input = fakeTokenCount(all);
  const output = fakeTokenCount(text);
  const id = `msg_bdrk_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
  if (!stream) {
    const body = JSON.stringify({ id, type: 'message', role: 'assistant', model, content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: input, output_tokens: output } });
    exchange.res.writeHead(200, { ...awsHeaders('application/json'), 'x-amzn-bedrock-input-token-count': String(input), 'x-amzn-bedrock-output-token-count': String(output), 'content-length': Buffer.byteLength(body) }).end(body);
    return;
  }
  const chunk = (event: Record<string, unknown>): Buffer => eventMessage('chunk', { bytes: Buffer.from(JSON.stringify(event)).toString('base64') });
  const messages = [
    chunk({ type: 'message_start', message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, usage: { input_tokens: input, output_tokens: 1 } } }),
    chunk({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    ...splitIntoChunks(text, exchange.knobs.chunks).map((piece) => chunk({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } })),
    chunk({ type: 'content_block_stop', index: 0 }),
    chunk({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: output } }),
    chunk({ type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: input, outputTokenCount: output, invocationLatency: 420, firstByteLatency: 120 } }),
  ];
  return writeMessages(exchange, messages);
}

const MODEL = '^/model/([^/]+)';

/** The Bedrock runtime routes. */
export const bedrockApi: FakeApi = {
  name: 'bedrock',
  routes: [
    { method: 'POST', pattern: new RegExp(`${MODEL}/converse$`), handle: (ex) => handleConverse(ex, ex.params[0] ?? '', false) },
    { method: 'POST', pattern: new RegExp(`${MODEL}/converse-stream$`), handle: (ex) => handleConverse(ex, ex.params[0] ?? '', true) },
    { method: 'POST', pattern: new RegExp(`${MODEL}/invoke$`), handle: (ex) => handleInvoke(ex, ex.params[0] ?? '', false) },
    { method: 'POST', pattern: new RegExp(`${MODEL}/invoke-with-response-stream$`), handle: (ex) => handleInvoke(ex, ex.params[0] ?? '', true) },
  ],
  sendError: sendBedrockError,
  // SigV4: the access key id in the Authorization header's Credential scope.
  apiKeyOf: ({ req }) => /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1],
  authError: () => ({ status: 403, type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' }),
};
