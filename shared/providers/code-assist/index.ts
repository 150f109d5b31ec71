/**
 * Gemini Code Assist (`cloudcode-pa.googleapis.com`): the backend of Gemini CLI and Gemini Code
 * Assist when signed in with a Google account. `POST /v1internal:generateContent` and
 * `:streamGenerateContent` (SSE with `?alt=sse`), the Gemini request wrapped with the model and the
 * Cloud project beside it:
 *
 *   { "model": "gemini-2.5-pro", "project": "my-proj", "user_prompt_id": "…",
 *     "request": { "contents": [...], "systemInstruction": {...}, "generationConfig": {...} } }
 *
 * and each answer (JSON body or SSE event) wrapped likewise: `{ "response": { candidates,
 * usageMetadata, modelVersion }, "traceId": "…" }`. Text and usage are read as Gemini's, inside the
 * wrappers. Other `v1internal` methods (loadCodeAssist, onboardUser, countTokens, metrics) carry no
 * generation and are not governed here.
 */
import { geminiError } from '../errors.js';
import { asNumber, asObject, collect, replace } from '../json-walk.js';
import type { ProviderAdapter } from '../types.js';
import { generateContentReader, visitGenerate } from '../gemini/index.js';

const HOST = 'cloudcode-pa.googleapis.com';
const PATH = /^\/v1internal:(generateContent|streamGenerateContent)$/;

const unwrapResponse = (o: Record<string, unknown> | null): Record<string, unknown> | null => asObject(o?.['response']);

/** The Gemini Code Assist adapter. */
export const codeAssistAdapter: ProviderAdapter = {
  id: 'code-assist',
  match(host, method, path) {
    if (host !== HOST || method !== 'POST') return null;
    const m = PATH.exec(path);
    if (m === null) return null;
    return { adapter: codeAssistAdapter, provider: 'gemini-code-assist', api: m[1] as string, pathModel: null, pathStream: m[1] === 'streamGenerateContent', signedIn: true };
  },
  parse(endpoint, body) {
    const o = asObject(body) ?? {};
    const inner = asObject(o['request']) ?? {};
    const { texts, chars, notes } = collect(visitGenerate, inner);
    const model = typeof o['model'] === 'string' ? o['model'] : null;
    return { model, stream: endpoint.pathStream, texts, promptChars: chars, notes, maxOutputTokens: asNumber(asObject(inner['generationConfig'])?.['maxOutputTokens']) };
  },
  rewriteTexts(_endpoint, body, texts) {
    const inner = asObject(asObject(body)?.['request']);
    if (inner !== null) replace(visitGenerate, inner, texts);
  },
  prepare: () => false,
  reader: () => generateContentReader(unwrapResponse),
  // Signed in with Google (OAuth bearer): a provider key, if ever injected, is a bearer token too.
  credential: (_endpoint, key) => ['authorization', `Bearer ${key}`],
  error: geminiError,
};
