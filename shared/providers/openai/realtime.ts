/**
 * The OpenAI Realtime API over WebSocket (`wss://api.openai.com/v1/realtime?model=…`, Azure
 * `wss://{resource}.openai.azure.com/openai/realtime?deployment=…`): JSON events both ways.
 *
 * Client events with text: `conversation.item.create` (`item.content[]` `input_text`/`text` parts,
 * a function call output's `output`), `session.update` (`session.instructions`), `response.create`
 * (`response.instructions`, and `response.input[]` items). Audio (`input_audio_buffer.append`) is
 * not text and is not read. Server events: `session.created`/`.updated` name the model,
 * `response.done` carries the response's usage (text and audio tokens in and out, cached input).
 */
import { asNumber, asObject, collect, parseObject, replace, type TextVisit } from '../json-walk.js';
import type { ProviderId } from '../../schema/policy.js';
import type { UsageParts } from '../types.js';
import { openAiHost } from './hosts.js';

/** A realtime endpoint: the provider and the model its URL names (null when it names none). */
export interface RealtimeEndpoint {
  readonly provider: ProviderId;
  readonly model: string | null;
}

/** The realtime endpoint a WebSocket upgrade to `host` `path` (with query) is, or null. */
export function realtimeEndpoint(host: string, path: string): RealtimeEndpoint | null {
  const q = path.indexOf('?');
  const bare = q === -1 ? path : path.slice(0, q);
  if (!bare.endsWith('/realtime')) return null;
  const h = openAiHost(host);
  if (h === null || h.signedIn) return null;
  const params = new URLSearchParams(q === -1 ? '' : path.slice(q + 1));
  return { provider: h.provider, model: params.get('model') ?? params.get('deployment') };
}

function visitItem(item: Record<string, unknown> | null, fn: (t: string) => string | undefined): void {
  if (item === null) return;
  const content = item['content'];
  if (Array.isArray(content)) {
    for (const raw of content) {
      const part = asObject(raw);
      if (part !== null && typeof part['text'] === 'string') part['text'] = fn(part['text']) ?? part['text'];
    }
  }
  if (typeof item['output'] === 'string') item['output'] = fn(item['output']) ?? item['output'];
}

/** Where text lives in a client event. */
export const visitClientEvent: TextVisit = (event, fn) => {
  switch (event['type']) {
    case 'conversation.item.create':
      visitItem(asObject(event['item']), fn);
      break;
    case 'session.update': {
      const session = asObject(event['session']);
      if (session !== null && typeof session['instructions'] === 'string') session['instructions'] = fn(session['instructions']) ?? session['instructions'];
      break;
    }
    case 'response.create': {
      const response = asObject(event['response']);
      if (response === null) break;
      if (typeof response['instructions'] === 'string') response['instructions'] = fn(response['instructions']) ?? response['instructions'];
      const input = response['input'];
      if (Array.isArray(input)) for (const item of input) visitItem(asObject(item), fn);
      break;
    }
    default:
      break;
  }
};

/** A client event's texts (for guardrails), or null when it is not JSON. */
export function clientEventTexts(event: Record<string, unknown>): string[] {
  return collect(visitClientEvent, event).texts;
}

/** Replaces a client event's texts (aligned with `clientEventTexts`; null keeps one). */
export function rewriteClientEvent(event: Record<string, unknown>, texts: ReadonlyArray<string | null>): void {
  replace(visitClientEvent, event, texts);
}

/** Usage of a `response.done` event, audio shares included. */
export interface RealtimeUsage extends UsageParts {
  inputAudioTokens?: number;
  outputAudioTokens?: number;
}

/** The usage a `response.done` event reports, or null. */
export function responseDoneUsage(event: Record<string, unknown>): RealtimeUsage | null {
  const u = asObject(asObject(event['response'])?.['usage']);
  if (u === null) return null;
  const inDetails = asObject(u['input_token_details']);
  const outDetails = asObject(u['output_token_details']);
  const usage: RealtimeUsage = {};
  const input = asNumber(u['input_tokens']);
  const output = asNumber(u['output_tokens']);
  if (input !== null) usage.inputTokens = input;
  if (output !== null) usage.outputTokens = output;
  const cached = asNumber(inDetails?.['cached_tokens']);
  if (cached !== null) usage.cacheReadTokens = cached;
  const inAudio = asNumber(inDetails?.['audio_tokens']);
  const outAudio = asNumber(outDetails?.['audio_tokens']);
  if (inAudio !== null) usage.inputAudioTokens = inAudio;
  if (outAudio !== null) usage.outputAudioTokens = outAudio;
  return usage;
}

/** Server events carrying output text deltas (the GA and beta names, text and audio transcripts). */
const TEXT_DELTAS: ReadonlySet<string> = new Set(['response.output_text.delta', 'response.text.delta', 'response.output_audio_transcript.delta', 'response.audio_transcript.delta']);

/** What a server event says, for the session's record. */
export type ServerEventInfo =
  | { readonly kind: 'model'; readonly model: string }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'audio' }
  | { readonly kind: 'done'; readonly usage: RealtimeUsage | null; readonly status: string | null }
  | { readonly kind: 'other' };

const OTHER: ServerEventInfo = { kind: 'other' };
const AUDIO: ServerEventInfo = { kind: 'audio' };

/**
 * Reads one server event. Audio deltas (most of a voice session's bytes) are recognised from the
 * start of the message without parsing it.
 */
export function readServerEvent(data: string): ServerEventInfo {
  const head = data.slice(0, 64);
  if (head.includes('audio.delta"')) return AUDIO;
  const o = parseObject(data);
  if (o === null) return OTHER;
  const type = o['type'];
  if (type === 'session.created' || type === 'session.updated') {
    const model = asObject(o['session'])?.['model'];
    return typeof model === 'string' ? { kind: 'model', model } : OTHER;
  }
  if (typeof type === 'string' && TEXT_DELTAS.has(type) && typeof o['delta'] === 'string') return { kind: 'text', text: o['delta'] };
  if (type === 'response.done') {
    const status = asObject(o['response'])?.['status'];
    return { kind: 'done', usage: responseDoneUsage(o), status: typeof status === 'string' ? status : null };
  }
  return OTHER;
}

/** True for a client event that is audio (not read). */
export function isClientAudio(data: string): boolean {
  return data.slice(0, 64).includes('input_audio_buffer.append"');
}

/** The `error` event the client gets for a client event the agent refused. */
export function refusalEvent(clientEventId: unknown, code: string, message: string): string {
  return JSON.stringify({
    type: 'error',
    event_id: `event_outpost_refusal_${typeof clientEventId === 'string' ? clientEventId : 'unknown'}`,
    error: { type: 'invalid_request_error', code, message, param: null, event_id: typeof clientEventId === 'string' ? clientEventId : null },
  });
}
