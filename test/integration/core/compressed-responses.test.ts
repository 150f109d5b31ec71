/**
 * Output guardrails whatever the content-coding: a fake provider that compresses every answer,
 * whatever `accept-encoding` says (as a CDN in front of a provider may), through the real engine and
 * gate with real TLS. The client gets the answer decoded and redacted, the record has the usage and
 * the rules; a decompression bomb is refused (fail-closed) or passed on as sent (fail-open), audited.
 */
import zlib from 'node:zlib';
import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Gate, Respond, ResponseTap } from '../../../agent/pipeline/seam.js';
import type { AuditEntry } from '../../../shared/schema/audit.js';
import { startTestAgent } from '../../support/agent.js';
import { dispatcherFor } from '../../support/clients.js';
import type { FakeCoding } from '../../support/fake/types.js';
import { rawRequest, type RawResponse } from '../../support/raw-request.js';
import { collectSse, sseJson } from '../../support/sse.js';
import { startWorld } from '../proxy/harness.js';
import { startGatewayWorld, until, type GatewayWorld } from './world.js';

const ZSTD = typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';
const CODINGS: FakeCoding[] = ['gzip', 'deflate', 'br', ...(ZSTD ? (['zstd'] as const) : [])];
const PII = 'Sure: reach Jane at jane.doe@acme.example or (415) 555-0100, any time.';
const REDACTED = 'Sure: reach Jane at [REDACTED:email] or [REDACTED:phone], any time.';
const CHAT = 'https://api.openai.com/v1/chat/completions';
const GUARDRAILS = [{ id: 'pii', type: 'pii' as const, on: ['output' as const], action: 'redact' as const }];
const BOMB_BYTES = 1024 * 1024 * 1024;

interface ChatJson {
  choices: Array<{ message: { content: string } }>;
  usage: { prompt_tokens: number; completion_tokens: number };
}
interface ChatChunk {
  choices: Array<{ delta: { content?: string } }>;
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
}

async function bodyBytes(res: RawResponse): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of res.body) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

function lastRecord(w: GatewayWorld): AuditEntry {
  const entry = w.audit.at(-1);
  if (entry === undefined) throw new Error('no audit record');
  return entry;
}

describe('output guardrails on responses that upstream compresses anyway', () => {
  let open: GatewayWorld;
  let closed: GatewayWorld;
  let toOpen: ReturnType<typeof dispatcherFor>;
  let toClosed: ReturnType<typeof dispatcherFor>;

  beforeAll(async () => {
    open = await startGatewayWorld({ failMode: 'open', guardrails: GUARDRAILS });
    closed = await startGatewayWorld({ failMode: 'closed', guardrails: GUARDRAILS });
    toOpen = dispatcherFor({ proxyUrl: open.proxyUrl, ca: open.caPem });
    toClosed = dispatcherFor({ proxyUrl: closed.proxyUrl, ca: closed.caPem });
  });
  beforeEach(() => {
    for (const w of [open, closed]) {
      w.world.provider.reset();
      w.world.provider.knobs.text = PII;
      w.audit.length = 0;
    }
  });
  afterAll(async () => {
    await toOpen?.close();
    await toClosed?.close();
    await open?.close();
    await closed?.close();
  });

  it.each(CODINGS)('%s JSON: the client gets it decoded and redacted, the record has usage and the rule', async (coding) => {
    open.world.provider.knobs.compress = coding;
    const res = await rawRequest(toOpen, CHAT, { json: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'contact?' }] } });
    const body = JSON.parse((await bodyBytes(res)).toString('utf8')) as ChatJson;
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(open.world.provider.requests[0]?.headers['accept-encoding']).toBe('identity');
    expect(body.choices[0]?.message.content).toBe(REDACTED);
    await until(() => open.audit.length === 1, 'the audit record');
    expect(lastRecord(open)).toMatchObject({ decision: 'redact', status: 200, inputTokens: body.usage.prompt_tokens, outputTokens: body.usage.completion_tokens, tokensEstimated: false });
    expect(lastRecord(open).rules).toContainEqual(expect.objectContaining({ id: 'pii', action: 'redact', target: 'output' }));
    expect(lastRecord(open).output).not.toContain('jane.doe');
  });

  it.each(CODINGS)('%s SSE: redacted across events as they stream, usage read from the compressed stream', async (coding) => {
    open.world.provider.knobs.compress = coding;
    open.world.provider.knobs.chunks = 12;
    const res = await rawRequest(toOpen, CHAT, { json: { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'contact?' }] } });
    expect(res.headers['content-encoding']).toBeUndefined();
    const events = sseJson<ChatChunk>(await collectSse(res.body));
    expect(events.map((e) => e.choices[0]?.delta.content ?? '').join('')).toBe(REDACTED);
    // The agent asked for the usage chunk (include_usage) and strips it: it was read, not passed on.
    expect(events.some((e) => e.usage != null)).toBe(false);
    await until(() => open.audit.length === 1, 'the audit record');
    expect(lastRecord(open)).toMatchObject({ decision: 'redact', stream: true, tokensEstimated: false });
    expect(lastRecord(open).outputTokens).toBeGreaterThan(0);
    expect(lastRecord(open).rules).toContainEqual(expect.objectContaining({ id: 'pii', action: 'redact' }));
  });

  it('a compressed stream stays a stream: events reach the client while upstream holds the rest', async () => {
    open.world.provider.knobs.compress = 'gzip';
    open.world.provider.knobs.text = 'one two three four five six';
    open.world.provider.knobs.chunks = 6;
    open.world.provider.knobs.holdAfterEvents = 3;
    const res = await rawRequest(toOpen, CHAT, { json: { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'count' }] } });
    let released = false;
    // Upstream holds after its third event until released: were the stream buffered (decoded only
    // at its end), no event would arrive and this would never finish.
    const capture = await collectSse(res.body, (event) => {
      if (!released && event.data.includes('"content"')) {
        released = true;
        open.world.provider.release();
      }
    });
    expect(released).toBe(true);
    expect(sseJson<ChatChunk>(capture).map((e) => e.choices[0]?.delta.content ?? '').join('')).toBe('one two three four five six');
    await until(() => open.audit.length === 1, 'the audit record');
    expect(lastRecord(open).tokensEstimated).toBe(false);
  });

  it('fail-closed: a JSON decompression bomb is refused with a provider-shaped 502, audited', async () => {
    closed.world.provider.knobs.bombBytes = BOMB_BYTES;
    const res = await rawRequest(toClosed, CHAT, { json: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'contact?' }] } });
    const body = JSON.parse((await bodyBytes(res)).toString('utf8')) as { error: { code: string; message: string } };
    expect(res.statusCode).toBe(502);
    expect(res.headers['x-outpost-decision']).toMatch(/^block; code=response_refused/);
    expect(body.error).toMatchObject({ code: 'response_refused', message: expect.stringMatching(/decompression bombs/) });
    await until(() => closed.audit.length === 1, 'the audit record');
    expect(lastRecord(closed)).toMatchObject({ decision: 'block', status: 502, error: expect.stringMatching(/decompression bombs/) });
    expect(lastRecord(closed).rules).toContainEqual(expect.objectContaining({ id: 'output-guardrails', kind: 'not-checked', action: 'block' }));
  });

  it('fail-open: a JSON decompression bomb is passed on as sent, unread, audited', async () => {
    open.world.provider.knobs.bombBytes = BOMB_BYTES;
    const res = await rawRequest(toOpen, CHAT, { json: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'contact?' }] } });
    const bytes = await bodyBytes(res);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    // Every compressed byte upstream sent: 1024 gzip members of 1 MiB of zeros each.
    expect(bytes.length).toBe(1024 * zlib.gzipSync(Buffer.alloc(1024 * 1024)).length);
    expect(zlib.gunzipSync(bytes.subarray(0, bytes.length / 1024)).length).toBe(1024 * 1024);
    await until(() => open.audit.length === 1, 'the audit record');
    expect(lastRecord(open)).toMatchObject({ decision: 'allow', status: 200, tokensEstimated: true });
    expect(lastRecord(open).rules).toContainEqual(expect.objectContaining({ id: 'output-guardrails', kind: 'not-checked', action: 'log', explanation: expect.stringMatching(/decompression bombs/) }));
  });

  it.each([
    ['open', () => open, () => toOpen],
    ['closed', () => closed, () => toClosed],
  ] as const)('fail-%s: an SSE bomb already streaming breaks the stream, audited', async (_mode, world, dispatcher) => {
    const w = world();
    w.world.provider.knobs.bombBytes = BOMB_BYTES;
    const res = await rawRequest(dispatcher(), CHAT, { json: { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'contact?' }] } });
    expect(res.statusCode).toBe(200);
    // The head went out at once (a stream's first event may be seconds away): too late for an
    // answer, and the decoded stream cannot switch back to the compressed bytes, so it breaks.
    await expect(collectSse(res.body)).rejects.toThrow();
    await until(() => w.audit.length === 1, 'the audit record');
    expect(lastRecord(w)).toMatchObject({ decision: 'block', status: 200, error: expect.stringMatching(/decompression bombs/) });
    expect(lastRecord(w).rules).toContainEqual(expect.objectContaining({ id: 'output-guardrails', kind: 'not-checked', action: 'block' }));
  });

  it(`zstd: ${ZSTD ? 'decoded (this Node has it)' : 'refused fail-closed, passed as sent fail-open (this Node cannot decode it)'}`, async () => {
    for (const w of [open, closed]) w.world.provider.knobs.compress = 'zstd';
    const ask = { json: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'contact?' }] } };
    const [fromOpen, fromClosed] = [await rawRequest(toOpen, CHAT, ask), await rawRequest(toClosed, CHAT, ask)];
    const [openBytes, closedBytes] = [await bodyBytes(fromOpen), await bodyBytes(fromClosed)];
    await until(() => open.audit.length === 1 && closed.audit.length === 1, 'both records');
    if (ZSTD) {
      for (const [res, bytes] of [[fromOpen, openBytes], [fromClosed, closedBytes]] as const) {
        expect(res.headers['content-encoding']).toBeUndefined();
        expect((JSON.parse(bytes.toString('utf8')) as ChatJson).choices[0]?.message.content).toBe(REDACTED);
      }
      return;
    }
    expect(fromClosed.statusCode).toBe(502);
    expect(JSON.parse(closedBytes.toString('utf8'))).toMatchObject({ error: { code: 'response_refused', message: expect.stringMatching(/content-encoding "zstd"/) } });
    expect(lastRecord(closed)).toMatchObject({ decision: 'block', status: 502 });
    expect(lastRecord(closed).rules).toContainEqual(expect.objectContaining({ id: 'output-guardrails', kind: 'not-checked', action: 'block' }));
    expect(fromOpen.statusCode).toBe(200);
    expect(fromOpen.headers['content-encoding']).toBe('zstd');
    expect(openBytes.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe(true); // a zstd frame, untouched
    expect(lastRecord(open)).toMatchObject({ status: 200, tokensEstimated: true });
    expect(lastRecord(open).rules).toContainEqual(expect.objectContaining({ id: 'output-guardrails', kind: 'not-checked', action: 'log', explanation: expect.stringMatching(/content-encoding "zstd"/) }));
  });
});

describe('compressed bodies that cannot be read', () => {
  it('bytes that are not valid for their coding: refused fail-closed, passed as sent fail-open', async () => {
    const [closed, open] = [await startGatewayWorld({ failMode: 'closed', guardrails: GUARDRAILS }), await startGatewayWorld({ failMode: 'open', guardrails: GUARDRAILS })];
    const [toClosed, toOpen] = [dispatcherFor({ proxyUrl: closed.proxyUrl, ca: closed.caPem }), dispatcherFor({ proxyUrl: open.proxyUrl, ca: open.caPem })];
    try {
      for (const w of [closed, open]) Object.assign(w.world.provider.knobs, { compress: 'gzip', corrupt: true });
      const ask = { json: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'contact?' }] } };
      const refused = await rawRequest(toClosed, CHAT, ask);
      expect(refused.statusCode).toBe(502);
      expect(JSON.parse((await bodyBytes(refused)).toString('utf8'))).toMatchObject({ error: { code: 'response_refused', message: expect.stringMatching(/not valid gzip/) } });
      const passed = await rawRequest(toOpen, CHAT, ask);
      expect(passed.statusCode).toBe(200);
      expect(passed.headers['content-encoding']).toBe('gzip');
      expect((await bodyBytes(passed)).toString()).toBe('these bytes are not compressed');
      await until(() => closed.audit.length === 1 && open.audit.length === 1, 'one record each');
      expect(lastRecord(closed)).toMatchObject({ decision: 'block', status: 502, error: expect.stringMatching(/not valid gzip/) });
      expect(lastRecord(open).rules).toContainEqual(expect.objectContaining({ id: 'output-guardrails', kind: 'not-checked', action: 'log', explanation: expect.stringMatching(/not valid gzip/) }));
    } finally {
      await toClosed.close();
      await toOpen.close();
      await closed.close();
      await open.close();
    }
  });

  it('upstream reset halfway through a compressed body: one record, the client sees a broken exchange', async () => {
    const w = await startGatewayWorld({ failMode: 'closed', guardrails: GUARDRAILS });
    const dispatcher = dispatcherFor({ proxyUrl: w.proxyUrl, ca: w.caPem });
    try {
      Object.assign(w.world.provider.knobs, { compress: 'gzip', resetMidBody: true, text: 'a longer answer that the reset cuts. '.repeat(500) });
      await expect(rawRequest(dispatcher, CHAT, { json: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'long?' }] } }).then(bodyBytes)).rejects.toThrow();
      await until(() => w.audit.length > 0, 'the audit record');
      // A second record (the gate's upstreamFailed) would come in the same call as the tap's.
      expect(w.audit).toHaveLength(1);
      expect(lastRecord(w)).toMatchObject({ error: expect.stringMatching(/upstream failed/) });
    } finally {
      await dispatcher.close();
      await w.close();
    }
  });

  it('the agent config bounds decoding (proxy.decompression), recorded in the audit log', async () => {
    const t = await startTestAgent({
      policy: { version: 1, name: 'bounded', failMode: 'closed', interception: { hosts: ['api.openai.com'] }, guardrails: GUARDRAILS },
      config: { proxy: { port: 0, decompression: { maxBytes: 64 * 1024, maxRatio: 100 } } },
    });
    const dispatcher = dispatcherFor({ proxyUrl: t.proxyUrl, ca: t.caPem });
    try {
      t.provider.knobs.compress = 'br';
      t.provider.knobs.text = 'an ordinary answer, only longer than this agent reads. '.repeat(2000);
      const res = await rawRequest(dispatcher, CHAT, { json: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'long?' }] } });
      const body = JSON.parse((await bodyBytes(res)).toString('utf8')) as { error: { code: string; message: string } };
      expect(res.statusCode).toBe(502);
      expect(body.error).toMatchObject({ code: 'response_refused', message: expect.stringMatching(/decoded past 64 KiB/) });
      t.agent.store.audit.flushNow();
      const [record] = t.agent.store.audit.recordsAfter(0).filter((r) => r.host === 'api.openai.com');
      expect(record).toMatchObject({ decision: 'block', status: 502 });
      expect(record?.rules).toContainEqual(expect.objectContaining({ id: 'output-guardrails', kind: 'not-checked', action: 'block' }));
    } finally {
      await dispatcher.close();
      await t.close();
    }
  });
});

describe('a tap that does not read the body', () => {
  it('passes a compressed response untouched and leaves accept-encoding as the client sent it', async () => {
    const quiet: ResponseTap = {
      readsBody: false,
      stopped: false,
      head: (_status: number, _headers: IncomingHttpHeaders) => false,
      chunk: (data: Buffer) => data,
      end: () => null,
      fail: () => {},
      unchecked: () => {},
      refuse: (): Respond => ({ kind: 'respond', status: 502, headers: {}, body: '' }),
    };
    const world = await startWorld({
      gate: (base): Gate => ({ ...base, admit: (req) => ({ kind: 'forward', path: req.path, headers: req.headers, body: req.body, decision: 'allow', tap: quiet }) }),
    });
    const dispatcher = dispatcherFor({ proxyUrl: world.engine.url, ca: world.ca.caPem });
    try {
      world.provider.knobs.compress = 'gzip';
      world.provider.knobs.text = PII;
      const res = await rawRequest(dispatcher, CHAT, { headers: { 'accept-encoding': 'gzip' }, json: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'contact?' }] } });
      const bytes = await bodyBytes(res);
      expect(world.provider.requests[0]?.headers['accept-encoding']).toBe('gzip');
      expect(res.headers['content-encoding']).toBe('gzip');
      expect(Number(res.headers['content-length'])).toBe(bytes.length);
      expect((JSON.parse(zlib.gunzipSync(bytes).toString('utf8')) as ChatJson).choices[0]?.message.content).toBe(PII);
    } finally {
      await dispatcher.close();
      await world.close();
    }
  });
});
