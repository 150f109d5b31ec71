/**
 * OpenAI's Realtime API over WebSocket (`wss://api.openai.com/v1/realtime?model=…`), as the GA
 * event reference documents it: `session.created` on connect (naming the model); client events
 * `conversation.item.create`, `input_audio_buffer.append` and `response.create`; a response streams
 * `response.created`, `response.output_text.delta` pieces (the echo of the last user text),
 * `response.output_audio.delta` (base64 audio) when the last turn was audio, and `response.done`
 * with usage (text and audio tokens in and out). The key comes as `Authorization: Bearer` or the
 * browser's `openai-insecure-api-key.` subprotocol; `realtime` is the subprotocol it accepts.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { randomId } from './respond.js';
import { answerText, fakeTokenCount, splitIntoChunks } from './text.js';

/** What the fake realtime server saw. */
export interface RealtimeLog {
  /** Every client event received, parsed, in order. */
  readonly received: Array<Record<string, unknown>>;
}

const AUDIO_TOKENS_PER_APPEND = 10;

/** Handles an upgrade to `/v1/realtime`; returns false for any other upgrade. */
export function realtimeUpgrade(log: RealtimeLog): (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (protocols) => (protocols.has('realtime') ? 'realtime' : false) });
  return (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'https://api.openai.com');
    if (url.pathname !== '/v1/realtime') return false;
    const model = url.searchParams.get('model') ?? 'gpt-realtime';
    wss.handleUpgrade(req, socket, head, (ws) => session(ws, model, log));
    return true;
  };
}

function session(ws: WebSocket, model: string, log: RealtimeLog): void {
  const send = (event: Record<string, unknown>): void => ws.send(JSON.stringify({ event_id: randomId('event_', 10), ...event }));
  let lastText = '';
  let inputTokens = 0;
  let audioIn = 0;
  send({ type: 'session.created', session: { id: randomId('sess_', 12), object: 'realtime.session', model, type: 'realtime', output_modalities: ['audio'] } });
  ws.on('message', (data, binary) => {
    if (binary) return;
    const event = JSON.parse(String(data)) as Record<string, unknown>;
    log.received.push(event);
    switch (event['type']) {
      case 'conversation.item.create': {
        const item = (event['item'] ?? {}) as { content?: Array<{ text?: string }> };
        lastText = (item.content ?? []).map((c) => c.text ?? '').join('');
        inputTokens += fakeTokenCount(lastText);
        send({ type: 'conversation.item.added', item: { ...item, id: randomId('item_', 12), status: 'completed' } });
        break;
      }
      case 'input_audio_buffer.append':
        audioIn += AUDIO_TOKENS_PER_APPEND;
        break;
      case 'response.create': {
        const responseId = randomId('resp_', 12);
        const text = answerText(model, lastText);
        send({ type: 'response.created', response: { id: responseId, object: 'realtime.response', status: 'in_progress' } });
        for (const delta of splitIntoChunks(text, 3)) send({ type: 'response.output_text.delta', response_id: responseId, item_id: 'item_out', output_index: 0, content_index: 0, delta });
        const audioOut = audioIn > 0 ? 20 : 0;
        if (audioOut > 0) send({ type: 'response.output_audio.delta', response_id: responseId, item_id: 'item_out', output_index: 0, content_index: 1, delta: Buffer.alloc(960).toString('base64') });
        const textOut = fakeTokenCount(text);
        send({
          type: 'response.done',
          response: {
            id: responseId,
            object: 'realtime.response',
            status: 'completed',
            usage: {
              total_tokens: inputTokens + audioIn + textOut + audioOut,
              input_tokens: inputTokens + audioIn,
              output_tokens: textOut + audioOut,
              input_token_details: { text_tokens: inputTokens, audio_tokens: audioIn, cached_tokens: 0 },
              output_token_details: { text_tokens: textOut, audio_tokens: audioOut },
            },
          },
        });
        inputTokens = 0;
        audioIn = 0;
        break;
      }
      default:
        break;
    }
  });
}
