/**
 * Types shared by the fake provider server and its per-provider handlers.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/** One request as the fake provider received it. */
export interface RecordedRequest {
  readonly method: string;
  /** The Host header without its port, lower-cased (`api.openai.com`). */
  readonly host: string;
  /** Path and query, as sent (`/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse`). */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** Header names and values as sent (case and order kept), alternating name, value. */
  readonly rawHeaders: readonly string[];
  /** The raw request body. */
  readonly body: Buffer;
  /** The body parsed as JSON, or `undefined` when it is empty or not JSON. */
  readonly json: unknown;
  /** The TLS SNI the client sent (`false` when none). */
  readonly servername: string | false;
  /** `1.1`, or `2.0` when the client (the agent's upstream side) used HTTP/2. */
  readonly httpVersion: string;
  /** The client's port: requests with the same one shared a connection. */
  readonly remotePort: number;
}

/** A fixed error every matching request gets, rendered in the provider's own error shape. */
export interface ErrorKnob {
  readonly status: number;
  /** Defaults to a message that names the status. */
  readonly message?: string;
  /** OpenAI `error.type` / Anthropic `error.type`; defaults by status. */
  readonly type?: string;
  /** OpenAI `error.code`; defaults by status. */
  readonly code?: string | null;
  /** Adds `Retry-After` (seconds). */
  readonly retryAfterSeconds?: number;
  /** Fail only this many requests, then answer normally again (SDK retry tests). Default: all. */
  readonly count?: number;
}

/**
 * Behaviour switches, settable per fake provider (`provider.knobs.chunks = 5`); `reset()`
 * restores the defaults. A request reads them once, when it arrives.
 */
export interface FakeKnobs {
  /** How many text deltas a streamed answer has (default 3). */
  chunks: number;
  /** Pause between SSE events, in ms (default 0). */
  chunkDelayMs: number;
  /** Pause before the response headers, in ms: a slow start (default 0). */
  headerDelayMs: number;
  /** Answer with this error instead (default none). */
  error: ErrorKnob | null;
  /** Reset the connection after this many SSE events were written (default never). */
  resetAfterEvents: number | null;
  /**
   * After this many SSE events, send the provider's in-stream error event (OpenAI `data:
   * {"error":…}`, Responses `event: error`, Anthropic `event: error` overloaded_error, Gemini
   * `data: {"error":…}`) and end the response cleanly (default never).
   */
  streamErrorAfterEvents: number | null;
  /** Hold the stream after this many SSE events until `provider.release()` (default never). */
  holdAfterEvents: number | null;
  /**
   * The provider key every request must carry (OpenAI `Authorization: Bearer`, Azure `api-key`,
   * Anthropic `x-api-key`, Gemini `x-goog-api-key` or `?key=`); others get the provider's own
   * authentication error (default none: any key or none is accepted).
   */
  apiKey: string | null;
  /** The answer text instead of the echo (default none). */
  text: string | null;
  /** Input tokens reported as read from the prompt cache (OpenAI cached_tokens, Anthropic
   *  cache_read_input_tokens, Gemini cachedContentTokenCount; default 0). */
  cachedInputTokens: number;
  /** Anthropic cache_creation_input_tokens (default 0). */
  cacheCreationInputTokens: number;
  /**
   * Compress every answer with this content-coding whatever the request's `accept-encoding` (as a
   * CDN in front of a provider may): JSON whole, SSE event by event, each event flushed so the
   * stream still streams (default none).
   */
  compress: FakeCoding | null;
  /** With `compress`: a JSON answer's body is not valid for its coding (default false). */
  corrupt: boolean;
  /** A JSON answer is cut by a TCP reset after half its bytes (default false). */
  resetMidBody: boolean;
  /**
   * Answer a gzip decompression bomb instead: this many bytes of zeros once decoded, from about a
   * thousandth as many (gzip members of 1 MiB each), under the route's content type (JSON or SSE;
   * an SSE bomb starts with one ordinary text event). Default none.
   */
  bombBytes: number | null;
}

/** Content-codings the fake can answer with (zstd only where Node's zlib has it). */
export type FakeCoding = 'gzip' | 'deflate' | 'br' | 'zstd';

/** The defaults `reset()` restores. */
export function defaultKnobs(): FakeKnobs {
  return {
    chunks: 3,
    chunkDelayMs: 0,
    headerDelayMs: 0,
    error: null,
    resetAfterEvents: null,
    streamErrorAfterEvents: null,
    holdAfterEvents: null,
    apiKey: null,
    text: null,
    cachedInputTokens: 0,
    cacheCreationInputTokens: 0,
    compress: null,
    corrupt: false,
    resetMidBody: false,
    bombBytes: null,
  };
}

/** What a handler gets for one request. */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly record: RecordedRequest;
  /** The JSON body as an object (empty object when absent), for reading request fields. */
  readonly body: Record<string, unknown>;
  readonly knobs: FakeKnobs;
  /** Resolves when `provider.release()` is called (the hold knob). */
  readonly held: () => Promise<void>;
  /** Route parameters captured by the route pattern. */
  readonly params: readonly string[];
}

/** One provider API: recognises a method and path, answers the exchange. */
export interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly handle: (exchange: Exchange) => Promise<void> | void;
}

/** A provider family as the fake serves it: its routes and its error shape. */
export interface FakeApi {
  readonly name: 'openai' | 'anthropic' | 'gemini' | 'copilot' | 'codex' | 'code-assist' | 'cursor' | 'vertex' | 'bedrock';
  readonly routes: readonly Route[];
  /** Writes an error in this provider's shape. */
  sendError(exchange: Exchange, error: ErrorKnob): void;
  /** The provider key a request carries, where this provider expects it. */
  apiKeyOf(exchange: Exchange): string | undefined;
  /** The error this provider answers for a missing or wrong key. */
  authError(presented: string | undefined): ErrorKnob;
}
