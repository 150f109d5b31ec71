/**
 * gRPC through the agent (issue 18.3): `@grpc/grpc-js` (which speaks only HTTP/2) through the proxy
 * (`grpc_proxy`) to a local gRPC service on a governed host, with the real gate. Unary, server
 * streaming, client streaming and bidirectional calls work end to end with their trailers intact
 * (the request body streams upstream as the client sends it); each call is audited at host level
 * (RPC from the path, grpc-status from the trailers, sizes, latency); protobuf is never rewritten
 * (a secret inside a message is not seen by guardrails: nothing reads protobuf); host policy applies.
 */
import http2 from 'node:http2';
import grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../shared/schema/audit.js';
import { echoClient, startFakeGrpc, unary, type EchoClient, type FakeGrpc, type SayReply } from '../../support/fake-grpc.js';
import { h2Through } from '../../support/h2-client.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';
import { HOSTS, startGatewayWorld, until, type GatewayWorld } from './world.js';

const HOST = 'grpc.ai.test';
const BLOCKED = 'grpc-blocked.ai.test';

describe('gRPC through the agent', () => {
  let upstreamCa: TestCa;
  let service: FakeGrpc;
  let w: GatewayWorld;
  let client: EchoClient;
  beforeAll(async () => {
    upstreamCa = await createTestCa('gRPC upstream CA');
    service = await startFakeGrpc(upstreamCa, [HOST, BLOCKED]);
    w = await startGatewayWorld(
      { interception: { hosts: [...HOSTS, HOST], blockedHosts: [BLOCKED] }, guardrails: [{ id: 'secrets', type: 'secrets', action: 'block' }] },
      {},
      // `upstream.http2` left at its default (off): gRPC calls are offered h2 anyway.
      // A short request time: a bidirectional call must outlive it (its request stays open by design).
      { resolve: { [HOST]: service.address, [BLOCKED]: service.address }, upstreamCaFile: upstreamCa.caFile, engine: { timeouts: { headersMs: 500, requestMs: 600 } } },
    );
    client = echoClient(HOST, w.caPem, w.proxyUrl);
  });
  beforeEach(() => {
    w.audit.length = 0;
    service.calls.length = 0;
  });
  afterAll(async () => {
    client?.close();
    await w?.close();
    await service?.close();
    await upstreamCa?.dispose();
  });

  const calls = (): AuditEntry[] => w.audit.filter((e) => e.kind === 'request' && e.host === HOST);

  it('a unary call works end to end, trailers intact, and is audited with its RPC, status, sizes and latency', async () => {
    const { reply, error, status } = await unary(client, 'Say', 'hello over grpc');
    expect(error).toBeNull();
    expect(reply?.text).toBe('echo: hello over grpc');
    expect(status.code).toBe(grpc.status.OK);
    expect(status.metadata.get('x-echo-trailer')).toEqual(['kept']);
    expect(service.calls).toEqual([{ method: 'Say', text: 'hello over grpc' }]);
    await until(() => calls().length === 1, 'the audit record');
    const [record] = calls() as [AuditEntry];
    expect(record).toMatchObject({ host: HOST, method: 'POST', endpoint: 'outpost.test.Echo/Say', path: '/outpost.test.Echo/Say', status: 200, decision: 'allow', error: null });
    expect(record.rules[0]?.explanation).toContain('grpc-status 0 (OK)');
    expect(record.requestBytes).toBeGreaterThan(5);
    expect(record.responseBytes).toBeGreaterThan(5);
    expect(record.latencyMs).toBeGreaterThan(0);
  });

  it('a server-streaming call delivers every message in order, then the trailers', async () => {
    const stream = client.Count({ text: 'tick', times: 5 });
    const replies: SayReply[] = [];
    stream.on('data', (r: SayReply) => replies.push(r));
    const status = await new Promise<grpc.StatusObject>((resolve) => stream.once('status', resolve));
    expect(status.code).toBe(grpc.status.OK);
    expect(status.metadata.get('x-echo-trailer')).toEqual(['kept']);
    expect(replies.map((r) => r.text)).toEqual(['tick #0', 'tick #1', 'tick #2', 'tick #3', 'tick #4']);
    await until(() => calls().length === 1, 'the audit record');
    expect(calls()[0]).toMatchObject({ endpoint: 'outpost.test.Echo/Count', status: 200, error: null });
  });

  it('a client-streaming call: the request streams upstream as sent, the record counts its bytes', async () => {
    const result = new Promise<{ error: grpc.ServiceError | null; reply?: SayReply }>((resolve) => {
      const call = client.Collect((error, reply) => resolve({ error, ...(reply ? { reply } : {}) }));
      for (const text of ['a', 'b', 'c']) call.write({ text });
      call.end();
    });
    const { error, reply } = await result;
    expect(error).toBeNull();
    expect(reply).toMatchObject({ text: 'a,b,c', index: 3 });
    await until(() => calls().length === 1, 'the audit record');
    expect(calls()[0]).toMatchObject({ endpoint: 'outpost.test.Echo/Collect', error: null });
    // Three framed messages of 3 bytes each (5-byte header + field tag, length, one byte).
    expect(calls()[0]?.requestBytes).toBe(24);
  });

  it('a bidirectional call: each answer arrives while the request is still open', async () => {
    const call = client.Chat();
    const next = (): Promise<SayReply> => new Promise((resolve) => call.once('data', resolve));
    const first = next();
    call.write({ text: 'one' });
    // The server answered the first message before the client sent a second: nothing waits for the whole request.
    expect((await first).text).toBe('re: one');
    const second = next();
    call.write({ text: 'two' });
    expect((await second).text).toBe('re: two');
    const status = new Promise<grpc.StatusObject>((resolve) => call.once('status', resolve));
    call.end();
    expect((await status).code).toBe(grpc.status.OK);
    expect(service.calls).toEqual([
      { method: 'Chat', text: 'one' },
      { method: 'Chat', text: 'two' },
    ]);
    await until(() => calls().length === 1, 'the audit record');
    expect(calls()[0]).toMatchObject({ endpoint: 'outpost.test.Echo/Chat', error: null });
  });

  it('a bidirectional call outlives the request time that bounds an ordinary request body', async () => {
    const call = client.Chat();
    const next = (): Promise<SayReply> => new Promise((resolve) => call.once('data', resolve));
    const first = next();
    call.write({ text: 'before' });
    expect((await first).text).toBe('re: before');
    // An ordinary request whose body never ends, opened now, is cancelled once the request time has
    // passed: by then the call has been open longer than that.
    const session = await h2Through(w.proxyUrl, 'api.openai.com', w.caPem);
    try {
      const stalled = session.request({ ':method': 'POST', ':path': '/v1/chat/completions', 'content-type': 'application/json' });
      stalled.on('error', () => {});
      stalled.write('{');
      await new Promise((resolve) => stalled.once('close', resolve));
      expect(stalled.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
    } finally {
      session.close();
    }
    const second = next();
    call.write({ text: 'after' });
    expect((await second).text).toBe('re: after');
    const status = new Promise<grpc.StatusObject>((resolve) => call.once('status', resolve));
    call.end();
    expect((await status).code).toBe(grpc.status.OK);
  });

  it('an error status reaches the client with its details and trailers, and the record names the status', async () => {
    const { error, status } = await unary(client, 'Fail', 'find it');
    expect(error?.code).toBe(grpc.status.NOT_FOUND);
    expect(error?.details).toBe('no such thing');
    expect(status.metadata.get('x-echo-trailer')).toEqual(['kept']);
    await until(() => calls().length === 1, 'the audit record');
    expect(calls()[0]).toMatchObject({ endpoint: 'outpost.test.Echo/Fail', error: 'grpc-status 5 (NOT_FOUND)' });
    // The server's message is its own text: kept out of the record.
    expect(JSON.stringify(calls())).not.toContain('no such thing');
  });

  it('protobuf is never rewritten or read: a secret inside a message passes byte for byte (guardrails do not see gRPC)', async () => {
    const secret = ['AKIA', 'Q3EGRKCV7L2ZXW5T'].join('');
    const { reply } = await unary(client, 'Say', `key ${secret}`);
    expect(reply?.text).toBe(`echo: key ${secret}`);
    expect(service.calls).toEqual([{ method: 'Say', text: `key ${secret}` }]);
    await until(() => calls().length === 1, 'the audit record');
    expect(calls()[0]?.decision).toBe('allow');
    expect(JSON.stringify(w.audit)).not.toContain(secret);
  });

  it('a refused streamed call (an unknown virtual key in its metadata) never reaches the service', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Bearer ovk-not-a-known-key');
    const error = await new Promise<grpc.ServiceError | null>((resolve) => {
      const call = client.Collect(metadata, (err) => resolve(err));
      call.write({ text: 'secret plans' });
    });
    expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(service.calls).toHaveLength(0);
  });

  it('host policy applies: a blocked gRPC host is refused before anything leaves the machine', async () => {
    const blocked = echoClient(BLOCKED, w.caPem, w.proxyUrl);
    try {
      const { error } = await unary(blocked, 'Say', 'let me through');
      expect(error?.code).toBe(grpc.status.UNAVAILABLE);
      expect(service.calls).toHaveLength(0);
      await until(() => w.audit.some((e) => e.kind === 'connect' && e.host === BLOCKED), 'the connect record');
      expect(w.audit.find((e) => e.host === BLOCKED)?.decision).toBe('block');
    } finally {
      blocked.close();
    }
  });
});
