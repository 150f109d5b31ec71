/**
 * A local gRPC service (`@grpc/grpc-js`, `fake/echo.proto`) over TLS from a test CA, for gRPC
 * through the agent (issue 18.3): `outpost.test.Echo/Say` (unary), `/Count` (server streaming),
 * `/Collect` (client streaming: joins what it got), `/Chat` (bidirectional: answers each message as
 * it arrives) and `/Fail` (answers NOT_FOUND). Every answer carries trailing metadata (`x-echo-trailer`), so a test
 * sees trailers arrive intact. `echoClient` builds the matching client, through a proxy when given
 * one (grpc-js reads `grpc_proxy` when the channel is made).
 */
import path from 'node:path';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { REPO_ROOT } from './repo.js';
import type { TestCa } from './test-ca.js';

const PROTO = path.join(REPO_ROOT, 'test/support/fake/echo.proto');

/** The messages of echo.proto. */
export interface SayReply {
  readonly text: string;
  readonly index: number;
}

/** A client of `outpost.test.Echo`. */
export interface EchoClient extends grpc.Client {
  Say(request: { text: string }, metadata: grpc.Metadata, callback: (err: grpc.ServiceError | null, reply?: SayReply) => void): grpc.ClientUnaryCall;
  Fail(request: { text: string }, metadata: grpc.Metadata, callback: (err: grpc.ServiceError | null, reply?: SayReply) => void): grpc.ClientUnaryCall;
  Count(request: { text: string; times: number }): grpc.ClientReadableStream<SayReply>;
  Collect(callback: (err: grpc.ServiceError | null, reply?: SayReply) => void): grpc.ClientWritableStream<{ text: string }>;
  Collect(metadata: grpc.Metadata, callback: (err: grpc.ServiceError | null, reply?: SayReply) => void): grpc.ClientWritableStream<{ text: string }>;
  Chat(): grpc.ClientDuplexStream<{ text: string }, SayReply>;
}

type EchoConstructor = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => EchoClient;

function echoDefinition(): { service: grpc.ServiceDefinition; Client: EchoConstructor } {
  const definition = protoLoader.loadSync(PROTO, { keepCase: true, defaults: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { outpost: { test: { Echo: EchoConstructor & { service: grpc.ServiceDefinition } } } };
  return { service: pkg.outpost.test.Echo.service, Client: pkg.outpost.test.Echo };
}

/** A running fake gRPC service. */
export interface FakeGrpc {
  readonly port: number;
  /** `127.0.0.1:PORT`, for `upstream.resolve`. */
  readonly address: string;
  /** Methods called, in order (`Say`, `Count`, `Fail`), with the text each got. */
  readonly calls: Array<{ method: string; text: string }>;
  close(): Promise<void>;
}

/** Starts the service on 127.0.0.1, port 0, with a leaf for `hosts` from `ca`. */
export async function startFakeGrpc(ca: TestCa, hosts: readonly string[]): Promise<FakeGrpc> {
  const { service } = echoDefinition();
  const calls: FakeGrpc['calls'] = [];
  const trailer = (): grpc.Metadata => {
    const m = new grpc.Metadata();
    m.set('x-echo-trailer', 'kept');
    return m;
  };
  const server = new grpc.Server();
  server.addService(service, {
    Say(call: grpc.ServerUnaryCall<{ text: string }, SayReply>, callback: grpc.sendUnaryData<SayReply>) {
      calls.push({ method: 'Say', text: call.request.text });
      callback(null, { text: `echo: ${call.request.text}`, index: 0 }, trailer());
    },
    Fail(call: grpc.ServerUnaryCall<{ text: string }, SayReply>, callback: grpc.sendUnaryData<SayReply>) {
      calls.push({ method: 'Fail', text: call.request.text });
      callback({ code: grpc.status.NOT_FOUND, details: 'no such thing', metadata: trailer() });
    },
    Collect(call: grpc.ServerReadableStream<{ text: string }, SayReply>, callback: grpc.sendUnaryData<SayReply>) {
      const texts: string[] = [];
      call.on('data', (m: { text: string }) => texts.push(m.text));
      call.on('end', () => {
        calls.push({ method: 'Collect', text: texts.join(',') });
        callback(null, { text: texts.join(','), index: texts.length }, trailer());
      });
    },
    Chat(call: grpc.ServerDuplexStream<{ text: string }, SayReply>) {
      let index = 0;
      call.on('data', (m: { text: string }) => {
        calls.push({ method: 'Chat', text: m.text });
        call.write({ text: `re: ${m.text}`, index: index++ });
      });
      call.on('end', () => call.end(trailer()));
    },
    Count(call: grpc.ServerWritableStream<{ text: string; times: number }, SayReply>) {
      calls.push({ method: 'Count', text: call.request.text });
      for (let i = 0; i < call.request.times; i++) call.write({ text: `${call.request.text} #${i}`, index: i });
      call.end(trailer());
    },
  });
  const leaf = ca.issue([...hosts]);
  const credentials = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(leaf.cert), private_key: Buffer.from(leaf.key) }]);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))));
  return {
    port,
    address: `127.0.0.1:${port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

/**
 * A client for `host:443` trusting `caPem`, through the HTTP proxy at `proxyUrl` when given (the
 * proxy variable is set only while the channel is made).
 */
export function echoClient(host: string, caPem: string, proxyUrl?: string): EchoClient {
  const { Client } = echoDefinition();
  const saved = { grpc_proxy: process.env.grpc_proxy, no_grpc_proxy: process.env.no_grpc_proxy };
  if (proxyUrl !== undefined) {
    process.env.grpc_proxy = proxyUrl;
    process.env.no_grpc_proxy = '';
  }
  try {
    return new Client(`${host}:443`, grpc.credentials.createSsl(Buffer.from(caPem)), { 'grpc.enable_http_proxy': proxyUrl === undefined ? 0 : 1 });
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** A unary call as a promise: the reply or the error, and the status with its trailing metadata. */
export async function unary(client: EchoClient, method: 'Say' | 'Fail', text: string): Promise<{ reply: SayReply | null; error: grpc.ServiceError | null; status: grpc.StatusObject }> {
  let call: grpc.ClientUnaryCall | null = null;
  const answered = new Promise<{ reply: SayReply | null; error: grpc.ServiceError | null }>((resolve) => {
    call = client[method]({ text }, new grpc.Metadata(), (error, reply) => resolve({ reply: reply ?? null, error }));
  });
  const status = new Promise<grpc.StatusObject>((resolve) => (call as unknown as grpc.ClientUnaryCall).once('status', resolve));
  const [result, final] = await Promise.all([answered, status]);
  return { ...result, status: final };
}
