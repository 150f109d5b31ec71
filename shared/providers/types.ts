/**
 * The provider adapter contract. An adapter is declarative about one API family: which requests it
 * recognises, where the prompt text lives in a request body, how responses carry text and usage, and
 * what an error looks like to that family's SDKs. Adding a provider is adding a folder and a
 * registry entry.
 */
import type { ProviderRef } from '../schema/custom-provider.js';
import type { SseEvent } from './sse.js';

/** A recognised API call. */
export interface Endpoint {
  readonly adapter: ProviderAdapter;
  /** A built-in provider id, or the id of the policy's custom provider that serves the host. */
  readonly provider: ProviderRef;
  /** The API within the family: `chat.completions`, `responses`, `messages`, `generateContent`… */
  readonly api: string;
  /** The model named by the path (Gemini, Azure deployments), or null. */
  readonly pathModel: string | null;
  /** The stream flag implied by the path (Gemini `streamGenerateContent`). */
  readonly pathStream: boolean;
  /**
   * True when the client signs in with the user's own account rather than a provider API key
   * (Copilot, Codex with ChatGPT, Gemini Code Assist): usage is still read and priced, but no
   * virtual key is required and no provider key is swapped in.
   */
  readonly signedIn?: boolean;
  /**
   * True when the client signs the request body (AWS SigV4): a rewritten body would fail the
   * signature, so a redaction becomes a block.
   */
  readonly signed?: boolean;
}

/** What a request says, for governance. */
export interface ParsedRequest {
  readonly model: string | null;
  readonly stream: boolean;
  /** Every prompt text part in body order (system, messages, tool calls and results). */
  readonly texts: string[];
  readonly promptChars: number;
  /** Non-text parts noted for the audit (`image` ×2…). */
  readonly notes: string[];
  readonly maxOutputTokens: number | null;
}

/** Usage as a response reports it; fields absent from an event are undefined. */
export interface UsageParts {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
}

/** What one stream event carries. */
export interface EventInfo {
  /** Output text in this event (deltas), or null. */
  readonly text: string | null;
  /** The event is the usage-only chunk the agent asked for (stripped when the client did not ask). */
  readonly usageOnly: boolean;
}

/** Reads one response (JSON or SSE); stateful per response. */
export interface ResponseReader {
  /** Reads one SSE event; updates usage. */
  event(ev: SseEvent): EventInfo;
  /** Reads a whole JSON body; returns its output text and updates usage. */
  json(body: unknown): string;
  /** Rewrites the text of an event that `event` reported text for. */
  withText(ev: SseEvent, text: string): string;
  /** Replaces every output text string of a JSON body (output redaction). */
  rewriteJson(body: unknown, fn: (text: string) => string): void;
  /** A final SSE event telling the client the stream was stopped, in the family's shape. */
  errorEvent(message: string, code: string): string;
  /** Usage seen so far (null when the response carried none). */
  usage(): UsageParts | null;
}

/** Parses a binary event stream (Bedrock's `application/vnd.amazon.eventstream`) into events a reader reads. */
export interface EventParser {
  /** Feeds a chunk; returns the events it completed (possibly none). */
  push(chunk: Buffer): SseEvent[];
  /** Bytes received but not yet part of a complete event, as text (empty for a binary stream). */
  rest(): string;
}

/** A refusal in the family's own error shape. */
export interface ErrorShape {
  readonly contentType: string;
  readonly body: string;
}

/** One API family. */
export interface ProviderAdapter {
  readonly id: string;
  /**
   * The endpoint this request is, or null when it is not an AI call this adapter governs. `path` is
   * without its query (`matchEndpoint` strips it once for every adapter).
   */
  match(host: string, method: string, path: string): Endpoint | null;
  parse(endpoint: Endpoint, body: unknown): ParsedRequest;
  /** Replaces prompt texts (aligned with `parse().texts`; null keeps a text). */
  rewriteTexts(endpoint: Endpoint, body: unknown, texts: ReadonlyArray<string | null>): void;
  /**
   * Changes the agent makes to a request before forwarding (OpenAI: ask for the usage chunk).
   * Returns true when it added a usage request the client did not make.
   */
  prepare(endpoint: Endpoint, body: unknown, parsed: ParsedRequest): boolean;
  reader(endpoint: Endpoint): ResponseReader;
  /**
   * A parser for a response stream that is not SSE (Bedrock's binary event stream), or null. Its
   * events go to the reader's `event` and are observed only: a binary stream is never rewritten.
   */
  streamParser?(endpoint: Endpoint, contentType: string): EventParser | null;
  /** The header that carries the provider key, and its value for `key`. */
  credential(endpoint: Endpoint, key: string): readonly [string, string];
  error(status: number, code: string, message: string): ErrorShape;
}

/** An API family that custom hosts may speak (policy `providers[].api`). */
export interface CustomHostAdapter extends ProviderAdapter {
  /**
   * The endpoint this request is on a host of the custom provider `provider`, or null. Paths are
   * matched by suffix, so an API served under a prefix (`/v1`, `/openai/v1`, `/api`) is recognised.
   */
  matchCustom(provider: ProviderRef, method: string, path: string): Endpoint | null;
}
