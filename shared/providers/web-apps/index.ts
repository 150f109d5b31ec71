/**
 * The consumer web apps, best effort: their endpoints are private and change without notice, so
 * only prompt extraction (for guardrails and audit) is attempted, and responses are passed through
 * unread (no usage: the apps are subscriptions, not metered per token).
 *
 * Covered (as observed in 2025-2026):
 * - chatgpt.com `POST /backend-api/conversation` and `/backend-api/f/conversation`: each
 *   `messages[].content.parts[]` string (text parts; image and file parts are noted), and `model`.
 * - claude.ai `POST /api/organizations/{org}/chat_conversations/{id}/completion` (and
 *   `retry_completion`): `prompt`, and each `attachments[].extracted_content` (pasted text and files
 *   the app extracted in the browser); `files` (uploaded images) are noted.
 * Not covered: voice, canvas/artifact edits, connectors, uploads before they are attached, and any
 * other endpoint (these pass through ungoverned but the host's traffic is still decrypted and seen).
 */
import { asObject, collect, replace, type TextVisit } from '../json-walk.js';
import type { Endpoint, EventInfo, ProviderAdapter, ResponseReader } from '../types.js';

const CHATGPT = /^\/backend-api\/(?:f\/)?conversation$/;
const CLAUDE = /^\/api\/organizations\/[^/]+\/chat_conversations\/[^/]+\/(?:retry_)?completion$/;

const visitChatGpt: TextVisit = (body, fn, note) => {
  const messages = body['messages'];
  if (!Array.isArray(messages)) return;
  for (const raw of messages) {
    const content = asObject(asObject(raw)?.['content']);
    const parts = content?.['parts'];
    if (!Array.isArray(parts)) continue;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (typeof p === 'string') parts[i] = fn(p) ?? p;
      else note(String(asObject(p)?.['content_type'] ?? 'attachment'));
    }
  }
};

const visitClaude: TextVisit = (body, fn, note) => {
  if (typeof body['prompt'] === 'string') body['prompt'] = fn(body['prompt']) ?? body['prompt'];
  const attachments = body['attachments'];
  if (Array.isArray(attachments)) {
    for (const raw of attachments) {
      const a = asObject(raw);
      if (a !== null && typeof a['extracted_content'] === 'string') a['extracted_content'] = fn(a['extracted_content']) ?? a['extracted_content'];
    }
  }
  if (Array.isArray(body['files'])) for (const _ of body['files']) note('file');
};

const NOTHING: EventInfo = { text: null, usageOnly: false };

/** Web-app responses are not read: pass-through, no usage. */
function passThrough(errorEvent: (message: string, code: string) => string): ResponseReader {
  return {
    event: () => NOTHING,
    json: () => '',
    withText: (ev) => ev.raw,
    rewriteJson: () => {},
    errorEvent,
    usage: () => null,
  };
}

function visitOf(endpoint: Endpoint): TextVisit {
  return endpoint.api === 'chatgpt.conversation' ? visitChatGpt : visitClaude;
}

/** The web-apps adapter (chatgpt.com, claude.ai). */
export const webAppsAdapter: ProviderAdapter = {
  id: 'web-apps',
  match(host, method, path) {
    if (method !== 'POST') return null;
    if (host === 'chatgpt.com' && CHATGPT.test(path)) return { adapter: webAppsAdapter, provider: 'openai', api: 'chatgpt.conversation', pathModel: null, pathStream: true };
    if (host === 'claude.ai' && CLAUDE.test(path)) return { adapter: webAppsAdapter, provider: 'anthropic', api: 'claude.completion', pathModel: null, pathStream: true };
    return null;
  },
  parse(endpoint, body) {
    const o = asObject(body) ?? {};
    const { texts, chars, notes } = collect(visitOf(endpoint), o);
    return { model: typeof o['model'] === 'string' ? o['model'] : null, stream: true, texts, promptChars: chars, notes, maxOutputTokens: null };
  },
  rewriteTexts(endpoint, body, texts) {
    const o = asObject(body);
    if (o !== null) replace(visitOf(endpoint), o, texts);
  },
  prepare: () => false,
  reader: (endpoint) =>
    passThrough(endpoint.api === 'chatgpt.conversation' ? (m) => `data: ${JSON.stringify({ error: m })}\n\n` : (m) => `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'permission_error', message: m } })}\n\n`),
  credential: () => ['x-outpost-unused', ''],
  // Both apps show a JSON `detail` (ChatGPT) or an Anthropic-style `error` (Claude) in the conversation.
  error: (_status, code, message) => ({ contentType: 'application/json', body: JSON.stringify({ detail: message, type: 'error', error: { type: code, message } }) }),
};

/** True for web-app endpoints: not metered per token (no pricing, no token budgets). */
export function isWebApp(endpoint: Endpoint): boolean {
  return endpoint.adapter === webAppsAdapter;
}
