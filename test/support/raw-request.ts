/**
 * One raw HTTP exchange through undici's `request`, for tests that assert bytes and headers
 * rather than what an SDK makes of them.
 */
import { request, type Dispatcher } from 'undici';

/** A response with its body still unread (`body` is an async iterable of bytes). */
export type RawResponse = Dispatcher.ResponseData;

/** Options for {@link rawRequest}. */
export interface RawRequestOptions {
  readonly method?: Dispatcher.HttpMethod;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as JSON with `content-type: application/json`. */
  readonly json?: unknown;
  /** Sent as is. */
  readonly body?: string | Buffer;
}

/** Sends one request on `dispatcher` (see `dispatcherFor`) and returns the unread response. */
export function rawRequest(dispatcher: Dispatcher, url: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  const headers: Record<string, string> = { ...options.headers };
  let body = options.body;
  if (options.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.json);
  }
  return request(url, {
    dispatcher,
    method: options.method ?? (body !== undefined ? 'POST' : 'GET'),
    headers,
    ...(body !== undefined ? { body } : {}),
  });
}
