/** The count of calls no adapter reads, as `outpost status` shows it (agent/pipeline/gate-unread.ts). */
import { describe, expect, it } from 'vitest';
import { barePath, sendsData, UnreadLog } from '../../../agent/pipeline/gate-unread.js';

describe('unread traffic log', () => {
  it('folds ids in paths so one endpoint counts once, and keeps RPC method names', () => {
    const log = new UnreadLog(() => 0);
    log.note('api.openai.com', 'POST', '/v1/files/file-abc123def456ghi789jkl012/content', 'unknown-endpoint', 10);
    log.note('api.openai.com', 'POST', '/v1/files/file-zyx987wvu654tsr321qpo000/content', 'unknown-endpoint', 5);
    log.note('api.openai.com', 'DELETE', '/v1/threads/12345', 'unknown-endpoint', 0);
    log.note('claude.ai', 'POST', '/api/organizations/0b9f3f8e-7c51-4d8f-8a51-9b7f0f1f2e3d/chat_conversations', 'unknown-endpoint', 0);
    log.note('api2.cursor.sh', 'POST', '/aiserver.v1.ChatService/StreamUnifiedChatWithTools', 'opaque-protocol', 7);
    const s = log.summary();
    expect(s).toMatchObject({ total: 5, requestBytes: 22, responseBytes: 0 });
    expect(s.endpoints.map((e) => `${e.method} ${e.path} ${e.count}`)).toEqual([
      'POST /v1/files/{id}/content 2',
      'DELETE /v1/threads/{id} 1',
      'POST /api/organizations/{id}/chat_conversations 1',
      'POST /aiserver.v1.ChatService/StreamUnifiedChatWithTools 1',
    ]);
  });

  it('is bounded: past 50 endpoints the least recently seen goes first', () => {
    const log = new UnreadLog(() => 0);
    for (let i = 0; i < 60; i++) log.note('h.example', 'POST', `/v1/thing-${String.fromCharCode(97 + (i % 26))}${'x'.repeat(Math.floor(i / 26))}`, 'unknown-endpoint', 1);
    log.note('h.example', 'POST', '/v1/thing-z', 'unknown-endpoint', 1);
    const s = log.summary();
    expect(s.total).toBe(61);
    expect(s.endpoints).toHaveLength(50);
    expect(s.endpoints.at(-1)).toMatchObject({ path: '/v1/thing-z', count: 2 });
    expect(s.endpoints.some((e) => e.path === '/v1/thing-a')).toBe(false);
  });

  it('records calls that send something; reads pass', () => {
    expect(['POST', 'PUT', 'PATCH', 'DELETE'].map(sendsData)).toEqual([true, true, true, true]);
    expect(['GET', 'HEAD', 'OPTIONS'].map(sendsData)).toEqual([false, false, false]);
    expect(barePath('/v1/x?key=secret&a=1')).toBe('/v1/x');
  });
});
