/**
 * Coding agents' own backends, as their clients call them:
 * - GitHub Copilot (`api.githubcopilot.com`, `api.{business,enterprise,individual}.githubcopilot.com`):
 *   OpenAI chat completions and responses at `/chat/completions` and `/responses` (no `/v1`), the
 *   model list at `GET /models`; inline code completions on `proxy.{plan}.githubcopilot.com` at
 *   `/v1/engines/{engine}/completions`; the client's Copilot token as `Authorization: Bearer`.
 * - Codex signed in with ChatGPT (`chatgpt.com`): the Responses API at
 *   `/backend-api/codex/responses` (always streamed by Codex), with `chatgpt-account-id`.
 * - Gemini Code Assist (`cloudcode-pa.googleapis.com`): `POST /v1internal:generateContent` and
 *   `:streamGenerateContent?alt=sse`, the Gemini request in `request` and each answer in
 *   `{ response, traceId }`; `:loadCodeAssist` answers the tier.
 * - Cursor (`api2.cursor.sh`): Connect RPCs. `application/connect+proto` streams are envelopes
 *   (1 flag byte, 4-byte big-endian length, message; flag 0x02 marks the JSON end-of-stream
 *   message); unary calls are `application/proto`. The messages are opaque bytes here, as they
 *   are to the agent.
 */
import { randomBytes } from 'node:crypto';
import { handleChatCompletions } from './openai-chat.js';
import { sendOpenAiError } from './openai-common.js';
import { handleModels } from './openai-models.js';
import { handleResponses } from './openai-responses.js';
import { handleGenerate, sendGeminiError } from './gemini-api.js';
import { dataEvent, sendEvents } from './respond.js';
import { splitIntoChunks } from './text.js';
import type { Exchange, FakeApi } from './types.js';

const bearer = ({ req }: Exchange): string | undefined => /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];

/**
 * Copilot's inline code completion (`/v1/engines/{engine}/completions`, the legacy completions
 * shape): streamed `choices[].text` pieces completing the prompt, then `[DONE]`; no usage, as
 * Copilot's completions send none.
 */
async function handleEngineCompletion(exchange: Exchange, engine: string): Promise<void> {
  const prompt = typeof exchange.body.prompt === 'string' ? exchange.body.prompt : '';
  const text = exchange.knobs.text ?? `  return ${JSON.stringify(prompt.slice(-20))}; // from ${engine}\n`;
  const id = `cmpl-${randomBytes(8).toString('hex')}`;
  const events = splitIntoChunks(text, exchange.knobs.chunks).map((piece, i, all) =>
    dataEvent({ id, created: Math.floor(Date.now() / 1000), model: engine, choices: [{ text: piece, index: 0, finish_reason: i === all.length - 1 ? 'stop' : null, logprobs: null }] }),
  );
  await sendEvents(exchange, { 'content-type': 'text/event-stream', 'x-request-id': id }, [...events, 'data: [DONE]\n\n']);
}

/** GitHub Copilot's API (OpenAI-shaped, without `/v1`). */
export const copilotApi: FakeApi = {
  name: 'copilot',
  routes: [
    { method: 'POST', pattern: /^\/chat\/completions$/, handle: (ex) => handleChatCompletions(ex) },
    { method: 'POST', pattern: /^\/responses$/, handle: handleResponses },
    { method: 'GET', pattern: /^\/models$/, handle: handleModels },
    { method: 'POST', pattern: /^\/v1\/engines\/([^/]+)\/completions$/, handle: (ex) => handleEngineCompletion(ex, ex.params[0] ?? '') },
  ],
  sendError: sendOpenAiError,
  apiKeyOf: bearer,
  authError: () => ({ status: 401, message: 'unauthorized: token expired', type: 'invalid_request_error', code: null }),
};

/** chatgpt.com's Codex backend (the Responses API under `/backend-api/codex`). */
export const codexApi: FakeApi = {
  name: 'codex',
  routes: [{ method: 'POST', pattern: /^\/backend-api\/codex\/responses$/, handle: handleResponses }],
  sendError: sendOpenAiError,
  apiKeyOf: bearer,
  authError: () => ({ status: 401, message: 'Your authentication token has expired. Please try signing in again.', type: 'invalid_request_error', code: 'token_expired' }),
};

const traceId = (): string => randomBytes(8).toString('hex');

/** Code Assist: the request's Gemini body is `request`, the answer goes in `{ response, traceId }`. */
async function handleCodeAssist(exchange: Exchange, stream: boolean): Promise<void> {
  const body = exchange.body;
  const request = body.request !== null && typeof body.request === 'object' ? (body.request as Record<string, unknown>) : {};
  const model = typeof body.model === 'string' ? body.model : 'gemini-2.5-pro';
  const id = traceId();
  await handleGenerate(exchange, model, stream, request, (response) => ({ response, traceId: id }));
}

/** Gemini Code Assist (`cloudcode-pa.googleapis.com/v1internal:…`). */
export const codeAssistApi: FakeApi = {
  name: 'code-assist',
  routes: [
    { method: 'POST', pattern: /^\/v1internal:generateContent$/, handle: (ex) => handleCodeAssist(ex, false) },
    { method: 'POST', pattern: /^\/v1internal:streamGenerateContent$/, handle: (ex) => handleCodeAssist(ex, true) },
    {
      method: 'POST',
      pattern: /^\/v1internal:loadCodeAssist$/,
      handle: ({ res }) => {
        res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' }).end(JSON.stringify({ currentTier: { id: 'standard-tier' }, cloudaicompanionProject: 'outpost-test-project' }));
      },
    },
  ],
  sendError: sendGeminiError,
  apiKeyOf: bearer,
  authError: () => ({ status: 401, message: 'Request had invalid authentication credentials.' }),
};

/** One Connect envelope: flags, big-endian length, message. */
export function connectFrame(flags: number, message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** Cursor's Connect RPCs: a streamed chat answers opaque frames then the end-of-stream message. */
export const cursorApi: FakeApi = {
  name: 'cursor',
  routes: [
    {
      method: 'POST',
      pattern: /^\/aiserver\.v1\.ChatService\/StreamUnifiedChatWithTools$/,
      handle: ({ res }) => {
        res.writeHead(200, { 'content-type': 'application/connect+proto', 'connect-content-encoding': 'identity' });
        // Two message frames (field 1, a length-delimited string: protobuf bytes 0x0a LEN TEXT).
        for (const text of ['Hello from ', 'Cursor']) res.write(connectFrame(0, Buffer.concat([Buffer.from([0x0a, text.length]), Buffer.from(text)])));
        res.end(connectFrame(2, Buffer.from('{}')));
      },
    },
    {
      method: 'POST',
      pattern: /^\/aiserver\.v1\.AiService\/AvailableModels$/,
      handle: ({ res }) => {
        const body = Buffer.concat([Buffer.from([0x0a, 6]), Buffer.from('gpt-5o')]);
        res.writeHead(200, { 'content-type': 'application/proto', 'content-length': body.length }).end(body);
      },
    },
  ],
  sendError: ({ res }, error) => {
    res.writeHead(error.status, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'unavailable', message: error.message ?? `Fake Cursor error ${error.status}.` }));
  },
  apiKeyOf: bearer,
  authError: () => ({ status: 401, message: 'unauthenticated' }),
};
