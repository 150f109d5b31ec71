/**
 * Coverage gaps are seen, never silent (issue 16.5, 16.1 Cursor): on an intercepted host, a call no
 * adapter reads — an endpoint the adapters do not know, or Cursor's Connect/protobuf — is forwarded
 * untouched, gets one audit record with its path (no query), sizes, status and latency, and is
 * counted by endpoint in the agent's status and metrics. Reads (GET) of unknown endpoints are not
 * recorded.
 */
import fs from 'node:fs/promises';
import path_ from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../support/agent.js';
import { dispatcherFor } from '../support/clients.js';
import { connectFrame } from '../support/fake/coding-agents.js';
import { agentStatus } from '../../shared/schema/control.js';
import type { AuditRecord } from '../../shared/schema/audit.js';
import type { Dispatcher } from 'undici';

describe('calls no adapter reads, through the whole agent (default policy)', () => {
  let t: TestAgent;
  let dispatcher: Dispatcher;
  const recordsAfter = (seq: number): AuditRecord[] => {
    t.agent.store.audit.flushNow();
    return t.agent.store.audit.recordsAfter(seq);
  };
  const lastSeq = (): number => recordsAfter(0).at(-1)?.seq ?? 0;
  /** GET on the control API, as `outpost status` and Prometheus ask it. */
  const control = async (path: string): Promise<Response> => {
    const token = (await fs.readFile(path_.join(t.home, 'control.token'), 'utf8')).trim();
    return fetch(`${t.agent.control.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  };

  beforeAll(async () => {
    t = await startTestAgent();
    dispatcher = dispatcherFor({ proxyUrl: t.proxyUrl, ca: t.caPem });
  });
  beforeEach(() => t.provider.reset());
  afterAll(async () => {
    await dispatcher?.close();
    await t?.close();
  });

  it('an unknown endpoint is forwarded as sent and recorded with its path (no query) and sizes', async () => {
    const from = lastSeq();
    const body = Buffer.from('--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF....WAVE\r\n--b--\r\n');
    const res = await request('https://api.openai.com/v1/audio/transcriptions?key=sk-should-not-be-recorded', {
      dispatcher,
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=b', authorization: 'Bearer sk-user-own-key' },
      body,
    });
    const answer = Buffer.from(await res.body.arrayBuffer());
    // The fake does not serve it either: its own 404 comes back unchanged.
    expect(res.statusCode).toBe(404);
    expect(res.headers['x-outpost-decision']).toBe('pass');
    expect(t.provider.requests.at(-1)?.body.equals(body)).toBe(true);

    const records = recordsAfter(from);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      host: 'api.openai.com',
      provider: 'openai',
      endpoint: null,
      method: 'POST',
      path: '/v1/audio/transcriptions',
      requestBytes: body.length,
      responseBytes: answer.length,
      status: 404,
      decision: 'allow',
      rules: [expect.objectContaining({ id: 'coverage', kind: 'unknown-endpoint', action: 'log' })],
    });
    expect(JSON.stringify(records[0])).not.toContain('sk-should-not-be-recorded');
  });

  it('a read of an unknown endpoint (GET) passes unrecorded', async () => {
    const from = lastSeq();
    const res = await request('https://api.openai.com/v1/models', { dispatcher, headers: { authorization: 'Bearer sk-user-own-key' } });
    expect(res.statusCode).toBe(200);
    await res.body.arrayBuffer();
    expect(recordsAfter(from)).toHaveLength(0);
  });

  it('Cursor: a Connect stream passes byte for byte; one record per call names the RPC, host-level, with sizes', async () => {
    const from = lastSeq();
    const message = connectFrame(0, Buffer.from([0x0a, 0x05, ...Buffer.from('hello')]));
    const res = await request('https://api2.cursor.sh/aiserver.v1.ChatService/StreamUnifiedChatWithTools', {
      dispatcher,
      method: 'POST',
      headers: { 'content-type': 'application/connect+proto', 'connect-protocol-version': '1', authorization: 'Bearer cursor-session-token', 'x-cursor-client-version': '1.7.0' },
      body: message,
    });
    const answer = Buffer.from(await res.body.arrayBuffer());
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/connect+proto');
    // Three envelopes: two messages and the end-of-stream one (flag 0x02), unchanged.
    expect(answer.includes(Buffer.from('Hello from '))).toBe(true);
    expect(answer.subarray(answer.length - 7)).toEqual(connectFrame(2, Buffer.from('{}')));
    expect(t.provider.requests.at(-1)?.body.equals(message)).toBe(true);

    const unary = await request('https://api2.cursor.sh/aiserver.v1.AiService/AvailableModels', { dispatcher, method: 'POST', headers: { 'content-type': 'application/proto' }, body: Buffer.alloc(0) });
    await unary.body.arrayBuffer();

    const records = recordsAfter(from);
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      host: 'api2.cursor.sh',
      provider: 'cursor',
      endpoint: 'aiserver.v1.ChatService/StreamUnifiedChatWithTools',
      path: '/aiserver.v1.ChatService/StreamUnifiedChatWithTools',
      requestBytes: message.length,
      responseBytes: answer.length,
      status: 200,
      model: null,
      inputTokens: null,
      rules: [expect.objectContaining({ id: 'coverage', kind: 'opaque-protocol' })],
    });
    expect(records[0]?.rules[0]?.explanation).toContain('Connect/protobuf');
    expect(records[1]).toMatchObject({ provider: 'cursor', endpoint: 'aiserver.v1.AiService/AvailableModels', requestBytes: 0 });
  });

  it('status counts them by endpoint, ids folded, so an administrator sees the gaps; metrics too', async () => {
    for (const id of ['file-abc123def456ghi789jkl012', 'file-zyx987wvu654tsr321qpo000']) {
      const res = await request(`https://api.openai.com/v1/files/${id}/content`, { dispatcher, method: 'POST', headers: { authorization: 'Bearer sk-user-own-key', 'content-type': 'application/json' }, body: '{}' });
      await res.body.arrayBuffer();
    }
    const s = agentStatus.parse(await (await control('/v1/status')).json());
    expect(s.unread.total).toBeGreaterThanOrEqual(5);
    expect(s.unread.requestBytes).toBeGreaterThan(0);
    expect(s.unread.responseBytes).toBeGreaterThan(0);
    expect(s.unread.endpoints).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ host: 'api.openai.com', method: 'POST', path: '/v1/files/{id}/content', reason: 'unknown-endpoint', count: 2 }),
        expect.objectContaining({ host: 'api2.cursor.sh', path: '/aiserver.v1.ChatService/StreamUnifiedChatWithTools', reason: 'opaque-protocol', count: 1 }),
      ]),
    );
    expect(s.unread.endpoints.some((e) => e.method === 'GET')).toBe(false);
    const metrics = await (await control('/metrics')).text();
    expect(metrics).toMatch(/outpost_unread_requests_total\{reason="opaque-protocol",provider="cursor"\} 2/);
  });
});
