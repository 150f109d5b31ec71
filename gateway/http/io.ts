/** Reading JSON request bodies (bounded) and writing JSON answers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiHttpError } from './errors.js';

/** The largest request body the APIs read (a policy document is the biggest). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** Reads a whole body as UTF-8 text; 413 beyond `limit`. */
export async function readText(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw new ApiHttpError(413, 'body_too_large', `the request body is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads and parses a JSON body; 413 beyond `limit`, 400 when it is not JSON. */
export async function readJson(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const text = await readText(req, limit);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ApiHttpError(400, 'invalid_json', `the request body is not JSON: ${(err as Error).message}`);
  }
}

/** Answers `body` as JSON with `status`. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** Answers an error (`ApiHttpError`, or a 500 that says nothing of the internals). */
export function sendError(res: ServerResponse, err: unknown): void {
  const e = err instanceof ApiHttpError ? err : new ApiHttpError(500, 'internal', 'the gateway failed to answer this request');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, e.status, e.toBody());
}

/** A query string as a plain object (each name once; the last value wins). */
export function queryObject(query: URLSearchParams): Record<string, string> {
  return Object.fromEntries(query.entries());
}
