/**
 * One HTTPS server on 127.0.0.1 that plays OpenAI, Anthropic, Gemini and a few OpenAI-compatible
 * providers, answering as their API references document (byte shapes, ids, headers, SSE framing).
 * It routes on the Host header, so tests point real hostnames at it (`resolveMap()`, the agent
 * config's `upstream.resolve`) and clients keep sending `Host: api.openai.com`.
 */
import { createServer } from 'node:https';
import http2 from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { anthropicApi } from './fake/anthropic-api.js';
import { bedrockApi } from './fake/bedrock-api.js';
import { codeAssistApi, codexApi, copilotApi, cursorApi } from './fake/coding-agents.js';
import { geminiApi } from './fake/gemini-api.js';
import { openAiApi } from './fake/openai-api.js';
import { vertexApi } from './fake/vertex-api.js';
import { realtimeUpgrade, type RealtimeLog } from './fake/openai-realtime.js';
import { defaultKnobs, type ErrorKnob, type Exchange, type FakeApi, type FakeKnobs, type RecordedRequest } from './fake/types.js';
import { closeServer, listenOnFreePort } from './ports.js';
import { createTestCa, type TestCa } from './test-ca.js';

export type { ErrorKnob, FakeKnobs, RecordedRequest } from './fake/types.js';
export { answerText, fakeTokenCount, splitIntoChunks } from './fake/text.js';

/** The Azure OpenAI host the certificate covers (through `*.openai.azure.com`). */
export const FAKE_AZURE_HOST = 'outpost-test.openai.azure.com';

/** Custom AI hosts the fake serves (a company's vLLM or LiteLLM under its own names). */
export const FAKE_CUSTOM_HOSTS = { openai: 'llm.corp.example', singleLabel: 'llm', anthropic: 'claude.corp.example' } as const;

/** Every host the fake answers for, and which API family it speaks. */
const HOST_APIS: ReadonlyMap<string, FakeApi> = new Map<string, FakeApi>([
  ['api.openai.com', openAiApi],
  ['api.anthropic.com', anthropicApi],
  ['generativelanguage.googleapis.com', geminiApi],
  ['api.mistral.ai', openAiApi],
  ['api.groq.com', openAiApi],
  ['api.x.ai', openAiApi],
  ['api.deepseek.com', openAiApi],
  ['openrouter.ai', openAiApi],
  ['example-ai.test', openAiApi],
  [FAKE_AZURE_HOST, openAiApi],
  // A company's own endpoints, for policy `providers` (custom hosts): an internal DNS name, a
  // single-label name, and an Anthropic-compatible gateway.
  [FAKE_CUSTOM_HOSTS.openai, openAiApi],
  [FAKE_CUSTOM_HOSTS.singleLabel, openAiApi],
  [FAKE_CUSTOM_HOSTS.anthropic, anthropicApi],
  // Coding agents' own backends (fake/coding-agents.ts).
  ['api.githubcopilot.com', copilotApi],
  ['api.business.githubcopilot.com', copilotApi],
  ['api.enterprise.githubcopilot.com', copilotApi],
  ['proxy.individual.githubcopilot.com', copilotApi],
  ['proxy.business.githubcopilot.com', copilotApi],
  ['chatgpt.com', codexApi],
  ['cloudcode-pa.googleapis.com', codeAssistApi],
  ['api2.cursor.sh', cursorApi],
  // Enterprise clouds (fake/vertex-api.ts).
  ['us-central1-aiplatform.googleapis.com', vertexApi],
  ['us-east5-aiplatform.googleapis.com', vertexApi],
  ['aiplatform.googleapis.com', vertexApi],
  ['bedrock-runtime.us-east-1.amazonaws.com', bedrockApi],
  ['bedrock-runtime.eu-central-1.amazonaws.com', bedrockApi],
]);

/** The hosts a fake provider answers for (all in its certificate and `resolveMap()`). */
export const FAKE_PROVIDER_HOSTS: readonly string[] = [...HOST_APIS.keys()];

/** A running fake provider. */
export interface FakeProvider {
  /** `127.0.0.1:PORT`. */
  readonly address: string;
  readonly port: number;
  /** The CA that issued the server certificate (the one passed in, or its own). */
  readonly ca: TestCa;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[];
  /** The Realtime API's WebSocket sessions (`wss://api.openai.com/v1/realtime`): client events received. */
  readonly realtime: RealtimeLog;
  /** Behaviour switches; mutate them directly. */
  knobs: FakeKnobs;
  /**
   * Per-host overrides on top of `knobs` (`provider.hostKnobs['api.openai.com'] = { error: … }`),
   * for tests where one provider fails while another answers.
   */
  hostKnobs: Record<string, Partial<FakeKnobs>>;
  /** Every fake host mapped to `address`: the shape of the agent config's `upstream.resolve`. */
  resolveMap(): Record<string, string>;
  /** Lets every stream that has arrived so far go past `knobs.holdAfterEvents`, held yet or not. */
  release(): void;
  /** Forgets recorded requests, restores default knobs, releases held streams. */
  reset(): void;
  /** Stops the server, dropping open connections (and the CA's temp folder when it owns the CA). */
  close(): Promise<void>;
}

/** Options for {@link startFakeProvider}. */
export interface FakeProviderOptions {
  /** Issue the server certificate from this CA (default: a fresh CA owned by the provider). */
  readonly ca?: TestCa;
  /**
   * Offer HTTP/2 in ALPN beside HTTP/1.1 (`http2.createSecureServer` with `allowHTTP1`), as the
   * real providers' front ends do; `RecordedRequest.httpVersion` says which one each request used.
   * WebSocket upgrades (the Realtime API) need HTTP/1.1.
   */
  readonly http2?: boolean;
}

function hostOf(req: IncomingMessage): string {
  const authority = req.headers[':authority'];
  const host = req.headers.host ?? (typeof authority === 'string' ? authority : '');
  return host.replace(/:\d+$/, '').toLowerCase();
}

function apiFor(host: string): FakeApi | undefined {
  return HOST_APIS.get(host) ?? (host.endsWith('.openai.azure.com') ? openAiApi : undefined);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Starts a fake provider on 127.0.0.1, port 0. Its certificate covers every fake host
 * (`FAKE_PROVIDER_HOSTS`, `*.openai.azure.com`, `localhost`, `127.0.0.1`).
 */
export async function startFakeProvider(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  const ca = options.ca ?? (await createTestCa('Outpost Fake Provider CA'));
  const leaf = ca.issue([...FAKE_PROVIDER_HOSTS, '*.openai.azure.com', 'localhost', '127.0.0.1']);
  const requests: RecordedRequest[] = [];
  let waiters: Array<() => void> = [];
  /** How many times release() was called: a stream started before a release never holds after it,
   *  even if it reaches its hold point later (the client may call release() first). */
  let releases = 0;
  /** How many times each error knob has been served, for `ErrorKnob.count`. */
  const errorsServed = new WeakMap<ErrorKnob, number>();

  const release = (): void => {
    releases++;
    const current = waiters;
    waiters = [];
    for (const resolve of current) resolve();
  };

  // The mutable part of the provider; handlers read it when a request arrives.
  const provider: Pick<FakeProvider, 'knobs' | 'hostKnobs'> = { knobs: defaultKnobs(), hostKnobs: {} };

  function pendingError(knobs: FakeKnobs): ErrorKnob | null {
    const error = knobs.error;
    if (!error) return null;
    const served = errorsServed.get(error) ?? 0;
    if (error.count !== undefined && served >= error.count) return null;
    errorsServed.set(error, served + 1);
    return error;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const releasesAtArrival = releases;
    const body = await readBody(req);
    const host = hostOf(req);
    const json = parseJson(body);
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      host,
      path: req.url ?? '/',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body,
      json,
      servername: (req.socket as TLSSocket).servername ?? false,
      httpVersion: req.httpVersion,
      remotePort: req.socket.remotePort ?? 0,
    };
    requests.push(record);
    const knobs: FakeKnobs = { ...provider.knobs, ...provider.hostKnobs[host] };
    if (knobs.headerDelayMs > 0) await sleep(knobs.headerDelayMs);

    const url = new URL(record.path, `https://${host || 'unknown.invalid'}`);
    const api = apiFor(host);
    const exchangeBase = {
      req,
      res,
      url,
      record,
      body: json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : {},
      knobs,
      held: () => (releases > releasesAtArrival ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
    };
    if (!api) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end(`fake provider does not serve host ${host}\n`);
      return;
    }
    const exchangeForKey: Exchange = { ...exchangeBase, params: [] };
    const presented = api.apiKeyOf(exchangeForKey);
    if (knobs.apiKey !== null && presented !== knobs.apiKey) {
      api.sendError(exchangeForKey, api.authError(presented));
      return;
    }
    for (const route of api.routes) {
      const match = route.method === req.method ? route.pattern.exec(url.pathname) : null;
      if (!match) continue;
      const exchange: Exchange = { ...exchangeBase, params: match.slice(1).map((p) => decodeURIComponent(p ?? '')) };
      const error = pendingError(knobs);
      if (error) api.sendError(exchange, error);
      else await route.handle(exchange);
      return;
    }
    api.sendError({ ...exchangeBase, params: [] }, { status: 404, message: `Unknown route ${req.method} ${url.pathname}.` });
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      else res.destroy();
    });
  };
  // The HTTP/2 compatibility request and response stand in for HTTP/1.1's (the handlers use their common API).
  const sessions = new Set<http2.ServerHttp2Session>();
  const server: Server =
    options.http2 === true
      ? http2
          .createSecureServer({ key: leaf.key, cert: leaf.cert, allowHTTP1: true }, onRequest as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void)
          .on('session', (session: http2.ServerHttp2Session) => {
            sessions.add(session);
            session.once('close', () => sessions.delete(session));
          })
      : createServer({ key: leaf.key, cert: leaf.cert }, onRequest);
  const realtime: RealtimeLog = { received: [] };
  const upgrade = realtimeUpgrade(realtime);
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    if (hostOf(req) !== 'api.openai.com' || !upgrade(req, socket, head)) socket.destroy();
  });
  const port = await listenOnFreePort(server);
  const address = `127.0.0.1:${port}`;

  return Object.assign(provider, {
    address,
    port,
    ca,
    requests,
    realtime,
    resolveMap: () => Object.fromEntries(FAKE_PROVIDER_HOSTS.map((host) => [host, address])),
    release,
    reset: () => {
      requests.length = 0;
      realtime.received.length = 0;
      provider.knobs = defaultKnobs();
      provider.hostKnobs = {};
      release();
    },
    close: async () => {
      release();
      for (const session of sessions) session.destroy();
      await closeServer(server);
      if (!options.ca) await ca.dispose();
    },
  });
}
