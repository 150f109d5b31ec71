/**
 * Gemini (Generative Language API) `models/{model}:generateContent`, `:streamGenerateContent`
 * and `:countTokens`. With `?alt=sse` the stream is SSE whose `data:` lines end in CRLF pairs (as
 * Google's servers send them); without it, a JSON array streamed element by element. Every
 * chunk repeats `usageMetadata` with running totals; the last has `finishReason: "STOP"`.
 */
import { randomBytes } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import { sendEvents, sendJson } from './respond.js';
import { answerText, contentText, fakeTokenCount, splitIntoChunks } from './text.js';
import type { ErrorKnob, Exchange, FakeApi } from './types.js';

interface Content {
  readonly role?: unknown;
  readonly parts?: unknown;
}

function geminiHeaders(contentType: string): OutgoingHttpHeaders {
  return {
    'content-type': contentType,
    vary: 'Origin, X-Origin, Referer',
    'x-content-type-options': 'nosniff',
    'server-timing': 'gfet4t7; dur=42',
  };
}

/** google.rpc.Code names by HTTP status (the API's error model). */
function statusName(status: number): string {
  const names: Record<number, string> = {
    400: 'INVALID_ARGUMENT',
    401: 'UNAUTHENTICATED',
    403: 'PERMISSION_DENIED',
    404: 'NOT_FOUND',
    409: 'ABORTED',
    429: 'RESOURCE_EXHAUSTED',
    499: 'CANCELLED',
    500: 'INTERNAL',
    503: 'UNAVAILABLE',
    504: 'DEADLINE_EXCEEDED',
  };
  return names[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
}

/** Writes an error in Google's shape (`{ error: { code, message, status } }`). */
export function sendGeminiError(exchange: Exchange, error: ErrorKnob): void {
  const headers = geminiHeaders('application/json; charset=UTF-8');
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  sendJson(exchange, error.status, headers, {
    error: {
      code: error.status,
      message: error.message ?? `Fake provider error ${error.status}.`,
      status: error.type ?? statusName(error.status),
    },
  });
}

/** What Google sends in-stream when the backend fails mid-answer. */
const STREAM_ERROR = {
  error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' },
};

function partsText(content: Content | undefined): string {
  return contentText(content?.parts);
}

function readPrompt(body: Record<string, unknown>): { all: string; prompt: string } {
  const contents = Array.isArray(body.contents) ? (body.contents as Content[]) : [];
  const system = body.systemInstruction as Content | undefined;
  // A turn without a role is a user turn.
  const user = [...contents].reverse().find((c) => c.role === undefined || c.role === 'user');
  return {
    all: [partsText(system), ...contents.map(partsText)].filter((t) => t.length > 0).join('\n'),
    prompt: partsText(user),
  };
}

function usageMetadata(promptTokens: number, candidateTokens: number, cached: number): Record<string, unknown> {
  return {
    promptTokenCount: promptTokens,
    candidatesTokenCount: candidateTokens,
    totalTokenCount: promptTokens + candidateTokens,
    ...(cached > 0
      ? { cachedContentTokenCount: cached, cacheTokensDetails: [{ modality: 'TEXT', tokenCount: cached }] }
      : {}),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokens }],
  };
}

/** How an answer is wrapped: as is (Gemini), or inside `{ response, traceId }` (Code Assist). */
export type Wrap = (chunk: Record<string, unknown>) => Record<string, unknown>;

/**
 * Answers a `generateContent` request whose Gemini body is `request` (the exchange's body unless
 * wrapped), each answer (JSON or stream chunk) passed through `wrap`.
 */
export async function handleGenerate(exchange: Exchange, model: string, stream: boolean, request: Record<string, unknown> = exchange.body, wrap: Wrap = (c) => c): Promise<void> {
  const { knobs } = exchange;
  const { all, prompt } = readPrompt(request);
  const text = knobs.text ?? answerText(model, prompt);
  const promptTokens = fakeTokenCount(all);
  const cached = Math.min(knobs.cachedInputTokens, promptTokens);
  const responseId = randomBytes(15).toString('base64url');
  const chunk = (piece: string, soFar: string, last: boolean): Record<string, unknown> => wrap({
    candidates: [
      {
        content: { parts: [{ text: piece }], role: 'model' },
        ...(last ? { finishReason: 'STOP' } : {}),
        index: 0,
      },
    ],
    usageMetadata: usageMetadata(promptTokens, fakeTokenCount(soFar), cached),
    modelVersion: model,
    responseId,
  });

  if (!stream) {
    sendJson(exchange, 200, geminiHeaders('application/json; charset=UTF-8'), chunk(text, text, true));
    return;
  }
  const pieces = splitIntoChunks(text, knobs.chunks);
  let soFar = '';
  const chunks = pieces.map((piece, i) => {
    soFar += piece;
    return chunk(piece, soFar, i === pieces.length - 1);
  });
  if (exchange.url.searchParams.get('alt') === 'sse') {
    await sendEvents(
      exchange,
      geminiHeaders('text/event-stream'),
      chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`),
      `data: ${JSON.stringify(STREAM_ERROR)}\r\n\r\n`,
    );
    return;
  }
  // Without alt=sse: one JSON array, its elements sent as they are produced.
  const parts = chunks.map((c, i) => `${i === 0 ? '[' : ',\r\n'}${JSON.stringify(c)}${i === chunks.length - 1 ? ']' : ''}`);
  await sendEvents(exchange, geminiHeaders('application/json; charset=UTF-8'), parts);
}

function handleCountTokens(exchange: Exchange): void {
  const { all } = readPrompt(exchange.body);
  const totalTokens = fakeTokenCount(all);
  sendJson(exchange, 200, geminiHeaders('application/json; charset=UTF-8'), {
    totalTokens,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: totalTokens }],
  });
}

/** The Gemini API on generativelanguage.googleapis.com (`v1beta`, `v1` and `v1alpha`). */
export const geminiApi: FakeApi = {
  name: 'gemini',
  routes: [
    {
      method: 'POST',
      pattern: /^\/v1(?:beta|alpha)?\/models\/([^/:]+):generateContent$/,
      handle: (ex) => handleGenerate(ex, ex.params[0] ?? '', false),
    },
    {
      method: 'POST',
      pattern: /^\/v1(?:beta|alpha)?\/models\/([^/:]+):streamGenerateContent$/,
      handle: (ex) => handleGenerate(ex, ex.params[0] ?? '', true),
    },
    { method: 'POST', pattern: /^\/v1(?:beta|alpha)?\/models\/([^/:]+):countTokens$/, handle: handleCountTokens },
  ],
  sendError: sendGeminiError,
  apiKeyOf: ({ req, url }) => {
    const key = req.headers['x-goog-api-key'];
    return typeof key === 'string' ? key : (url.searchParams.get('key') ?? undefined);
  },
  // Google answers a wrong key with 400 INVALID_ARGUMENT and a missing one with 403.
  authError: (presented) =>
    presented
      ? { status: 400, message: 'API key not valid. Please pass a valid API key.' }
      : { status: 403, message: "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API." },
};
