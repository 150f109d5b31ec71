/**
 * Real clients for tests: the official OpenAI and Anthropic SDKs, undici fetch and curl, each
 * either through an HTTP proxy (the agent) or straight at a fake provider with the real hostname
 * mapped to loopback. Each trusts only the CA PEMs it is given.
 */
import type { ClientRequest } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import { HttpsProxyAgent } from 'https-proxy-agent';
import OpenAI from 'openai';
import { Agent, buildConnector, fetch as undiciFetch, ProxyAgent, type Dispatcher } from 'undici';

/**
 * A Node `http.Agent` that CONNECTs through `proxy` and trusts `ca` for the origin's TLS (for
 * clients that take an agent: the AWS SDK's NodeHttpHandler, `ws`). https-proxy-agent's own `ca`
 * option applies to the proxy connection only.
 */
export class TrustingProxyAgent extends HttpsProxyAgent<string> {
  constructor(
    proxy: string,
    private readonly originCa: string,
  ) {
    super(proxy);
  }
  override connect(req: ClientRequest, opts: Parameters<HttpsProxyAgent<string>['connect']>[1]): ReturnType<HttpsProxyAgent<string>['connect']> {
    return super.connect(req, { ...opts, ca: this.originCa } as Parameters<HttpsProxyAgent<string>['connect']>[1]);
  }
}

/** How a client reaches its server. */
export interface ClientRoute {
  /** Send through this HTTP proxy (`http://127.0.0.1:PORT`), with CONNECT for https. */
  readonly proxyUrl?: string;
  /**
   * Without a proxy: connect these hosts to these `address:port`s instead of resolving them
   * (a fake provider's `resolveMap()`); TLS still names the real host (SNI and verification).
   */
  readonly resolve?: Readonly<Record<string, string>>;
  /** The CA certificates (PEM) to trust: only these, not the OS store. */
  readonly ca?: string | readonly string[];
}

/** A client with the dispatcher it owns; `close()` ends its connections. */
export interface ClientHandle<T> {
  readonly client: T;
  readonly dispatcher: Dispatcher;
  close(): Promise<void>;
}

function caList(ca: ClientRoute['ca']): string[] | undefined {
  if (ca === undefined) return undefined;
  return typeof ca === 'string' ? [ca] : [...ca];
}

function splitAddress(address: string): { hostname: string; port: string } {
  const at = address.lastIndexOf(':');
  return { hostname: address.slice(0, at).replace(/^\[|\]$/g, ''), port: address.slice(at + 1) };
}

/**
 * An undici dispatcher for a route: a `ProxyAgent` (TLS to the origin through the proxy's tunnel,
 * trusting `ca`) or an `Agent` whose connector maps `resolve` hosts to their addresses.
 */
export function dispatcherFor(route: ClientRoute): Dispatcher {
  const ca = caList(route.ca);
  const tls = ca ? { ca } : {};
  if (route.proxyUrl) return new ProxyAgent({ uri: route.proxyUrl, requestTls: tls });
  const base = buildConnector(tls);
  const resolve = route.resolve ?? {};
  const connect: buildConnector.connector = (options, callback) => {
    const target = resolve[options.hostname];
    if (!target) return base(options, callback);
    const { hostname, port } = splitAddress(target);
    base({ ...options, hostname, port, servername: options.servername ?? options.hostname }, callback);
  };
  return new Agent({ connect });
}

/** A `fetch` (undici's, matching the dispatcher's version) bound to a route. */
export function fetchFor(route: ClientRoute): ClientHandle<typeof globalThis.fetch> {
  const dispatcher = dispatcherFor(route);
  const client = ((input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) =>
    undiciFetch(input, { ...init, dispatcher })) as unknown as typeof globalThis.fetch;
  return { client, dispatcher, close: () => dispatcher.close() };
}

/**
 * One OpenAI chat completion (gpt-4o-mini, `text` as the user's message, the user's own key) sent
 * with fetch on `route` (through an agent's proxy): its status and body.
 */
export async function chatThrough(route: ClientRoute, text: string): Promise<{ status: number; body: string }> {
  const { client: fetch, close } = fetchFor(route);
  try {
    const res = await fetch('https://api.openai.com/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-user-own-key' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: text }] }),
    });
    return { status: res.status, body: await res.text() };
  } finally {
    await close();
  }
}

/** Options for the SDK helpers. */
export interface SdkOptions extends ClientRoute {
  /** Default: the provider's real base URL (`https://api.openai.com/v1`, `https://api.anthropic.com`). */
  readonly baseURL?: string;
  readonly apiKey?: string;
  /** The SDK's own retry count (its default is 2). */
  readonly maxRetries?: number;
  readonly defaultHeaders?: Record<string, string>;
}

/**
 * The official OpenAI SDK on a route. It gets undici's `fetch` and the route's dispatcher through
 * its documented `fetch` and `fetchOptions` options (the SDK's "Configuring proxies" section), so
 * the dispatcher and fetch come from the same undici version.
 */
export function openAiClient(options: SdkOptions = {}): ClientHandle<OpenAI> {
  const dispatcher = dispatcherFor(options);
  const client = new OpenAI({
    apiKey: options.apiKey ?? 'sk-test-outpost',
    baseURL: options.baseURL ?? 'https://api.openai.com/v1',
    fetch: undiciFetch as unknown as OpenAI['fetch'],
    fetchOptions: { dispatcher } as unknown as NonNullable<OpenAI['fetchOptions']>,
    ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
    ...(options.defaultHeaders ? { defaultHeaders: options.defaultHeaders } : {}),
  });
  return { client, dispatcher, close: () => dispatcher.close() };
}

/** The official Anthropic SDK on a route (same wiring as {@link openAiClient}). */
export function anthropicClient(options: SdkOptions = {}): ClientHandle<Anthropic> {
  const dispatcher = dispatcherFor(options);
  const client = new Anthropic({
    apiKey: options.apiKey ?? 'sk-ant-test-outpost',
    baseURL: options.baseURL ?? 'https://api.anthropic.com',
    fetch: undiciFetch as unknown as Anthropic['fetch'],
    fetchOptions: { dispatcher } as unknown as NonNullable<Anthropic['fetchOptions']>,
    ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
    ...(options.defaultHeaders ? { defaultHeaders: options.defaultHeaders } : {}),
  });
  return { client, dispatcher, close: () => dispatcher.close() };
}
