/**
 * Realtime sessions over WebSocket through the whole agent (issue 16.4): a real `ws` client
 * through the proxy to a fake Realtime server. Text the client sends goes through the input
 * guardrails (redacted in place, or refused with an `error` event and not forwarded); each
 * `response.done` writes one record with model, tokens and cost; audio passes untouched and the
 * record says it was not read. A virtual key is refused rather than sent on.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../support/agent.js';
import { TrustingProxyAgent } from '../support/clients.js';
import type { PolicyInput } from '../../shared/schema/policy.js';
import type { AuditRecord } from '../../shared/schema/audit.js';

const policy: PolicyInput = {
  version: 1,
  name: 'realtime',
  interception: { hosts: ['api.openai.com'] },
  virtualKeys: [{ id: 'vk-rt', key: 'ovk-realtime-0123456789', owner: 'org' }],
  // Room for the text turns, not for the audio turn (30 audio tokens in, 20 out cost about $0.0022).
  defaults: { budget: { limitUsd: 0.002, period: '1d' } },
  guardrails: [
    { id: 'secrets', type: 'secrets', on: ['input'], action: 'block' },
    { id: 'pii', type: 'pii', entities: ['email'], on: ['input', 'output'], action: 'redact' },
  ],
};

type Event = Record<string, unknown> & { type: string };

/** A connected client that keeps every event it received, and can wait for the next of a type. */
class RealtimeClient {
  readonly events: Event[] = [];
  private waiters: Array<{ type: string; resolve: (e: Event) => void }> = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const e = JSON.parse(String(data)) as Event;
      this.events.push(e);
      const i = this.waiters.findIndex((w) => w.type === e.type);
      if (i !== -1) this.waiters.splice(i, 1)[0]?.resolve(e);
    });
  }
  next(type: string): Promise<Event> {
    return new Promise((resolve) => this.waiters.push({ type, resolve }));
  }
  send(event: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(event));
  }
}

describe('realtime sessions through the whole agent', () => {
  let t: TestAgent;
  let agent: TrustingProxyAgent;
  const sockets: WebSocket[] = [];
  const recordsAfter = (seq: number): AuditRecord[] => {
    t.agent.store.audit.flushNow();
    return t.agent.store.audit.recordsAfter(seq);
  };
  const lastSeq = (): number => recordsAfter(0).at(-1)?.seq ?? 0;

  const open = async (key = 'sk-user-own-key'): Promise<RealtimeClient> => {
    const ws = new WebSocket('wss://api.openai.com/v1/realtime?model=gpt-realtime', ['realtime'], { agent, headers: { authorization: `Bearer ${key}` } });
    sockets.push(ws);
    const client = new RealtimeClient(ws);
    const created = client.next('session.created');
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    expect(ws.protocol).toBe('realtime');
    await created;
    return client;
  };
  const userText = (text: string, id = 'evt_user_1'): Record<string, unknown> => ({ type: 'conversation.item.create', event_id: id, item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });

  beforeAll(async () => {
    t = await startTestAgent({ policy });
    agent = new TrustingProxyAgent(t.proxyUrl, t.caPem);
  });
  beforeEach(() => t.provider.reset());
  afterAll(async () => {
    for (const ws of sockets) {
      // A socket refused at its handshake reports its end as an error: expected here.
      ws.on('error', () => {});
      ws.terminate();
    }
    agent?.destroy();
    await t?.close();
  });

  it('a text turn: the e-mail address is redacted before it leaves; response.done makes one record with tokens and cost', async () => {
    const client = await open();
    const from = lastSeq();
    client.send(userText('tell jane.doe@acme.example the plan'));
    await client.next('conversation.item.added');
    const done = client.next('response.done');
    client.send({ type: 'response.create' });
    const usage = ((await done)['response'] as { usage: { input_tokens: number; output_tokens: number } }).usage;

    const sent = t.provider.realtime.received.find((e) => e['type'] === 'conversation.item.create');
    expect(JSON.stringify(sent)).not.toContain('jane.doe@acme.example');
    expect(JSON.stringify(sent)).toContain('tell ');
    const text = client.events.filter((e) => e.type === 'response.output_text.delta').map((e) => e['delta']).join('');
    expect(text).toContain('Echo from gpt-realtime');

    const records = recordsAfter(from);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ host: 'api.openai.com', provider: 'openai', endpoint: 'realtime', model: 'gpt-realtime', decision: 'redact', inputTokens: usage.input_tokens, outputTokens: usage.output_tokens, tokensEstimated: false });
    expect(records[0]?.costUsd).toBeGreaterThan(0);
    expect(records[0]?.output).toContain('Echo from gpt-realtime');
  });

  it('a blocked item is answered with an error event and never forwarded; the session goes on', async () => {
    const client = await open();
    const from = lastSeq();
    const error = client.next('error');
    client.send(userText('deploy with AKIAIOSFODNN7EXAMPLE', 'evt_secret'));
    const e = (await error)['error'] as { code: string; event_id: string; message: string };
    expect(e).toMatchObject({ code: 'guardrail_blocked', event_id: 'evt_secret' });
    expect(e.message).toContain('secrets');
    expect(recordsAfter(from)[0]).toMatchObject({ endpoint: 'realtime', decision: 'block', rules: [expect.objectContaining({ id: 'secrets' })] });

    client.send(userText('a harmless question', 'evt_ok'));
    await client.next('conversation.item.added');
    expect(t.provider.realtime.received.map((r) => r['event_id'])).toEqual(['evt_ok']);
  });

  it('audio passes untouched and unread; its tokens are priced at audio rates and the record says so', async () => {
    const client = await open();
    const from = lastSeq();
    const audio = Buffer.alloc(3200, 7).toString('base64');
    for (let i = 0; i < 3; i++) client.send({ type: 'input_audio_buffer.append', audio });
    const done = client.next('response.done');
    client.send({ type: 'response.create' });
    await done;
    const appended = t.provider.realtime.received.filter((e) => e['type'] === 'input_audio_buffer.append');
    expect(appended.map((e) => e['audio'])).toEqual([audio, audio, audio]);
    expect(client.events.some((e) => e.type === 'response.output_audio.delta')).toBe(true);
    const [record] = recordsAfter(from);
    expect(record?.rules).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'realtime', kind: 'audio-unread' })]));
    // 30 audio tokens in and 20 out at gpt-realtime's audio rates ($32 and $64 per million) plus the text.
    expect(record?.costUsd).toBeGreaterThan((30 * 32 + 20 * 64) / 1e6 - 1e-12);
  });

  it("realtime costs are charged to the user's budget: once the audio turn spent it, the next API call is refused 402", async () => {
    const { chatThrough } = await import('../support/clients.js');
    const r = await chatThrough({ proxyUrl: t.proxyUrl, ca: t.caPem }, 'one more question');
    expect(r.status).toBe(402);
    expect(r.body).toContain('budget_exceeded');
  });

  it('a virtual key in the handshake is refused, never sent to OpenAI', async () => {
    const ws = new WebSocket('wss://api.openai.com/v1/realtime?model=gpt-realtime', ['realtime'], { agent, headers: { authorization: 'Bearer ovk-realtime-0123456789' } });
    sockets.push(ws);
    const status = await new Promise<number>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(403);
    expect(t.provider.realtime.received).toHaveLength(0);
  });
});
