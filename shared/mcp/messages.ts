/**
 * JSON-RPC 2.0 as MCP's Streamable HTTP transport carries it: the client POSTs one message (a
 * request with an `id`, or a notification without) and the server answers with one JSON response or
 * an SSE stream of messages that ends with the response. Pure helpers: recognise a message, find the
 * text a tool call sends and a tool result returns, filter a tool list, and build an error response.
 */
import { asObject, walkStrings } from '../providers/json-walk.js';

/** A JSON-RPC request id (a string or a number; null only in an error for an unreadable request). */
export type RpcId = string | number | null;

/** A JSON-RPC request or notification from the client. */
export interface RpcRequest {
  readonly id: RpcId | undefined;
  readonly method: string;
  readonly params: Record<string, unknown> | null;
}

/** JSON-RPC error code for a call refused by policy (the implementation-defined server range, -32000 to -32099). */
export const POLICY_REFUSED = -32003;

function asRequest(v: unknown): RpcRequest | null {
  const o = asObject(v);
  if (o === null || o['jsonrpc'] !== '2.0' || typeof o['method'] !== 'string') return null;
  const id = o['id'];
  return { id: typeof id === 'string' || typeof id === 'number' ? id : undefined, method: o['method'], params: asObject(o['params']) };
}

/**
 * The JSON-RPC message(s) a request body is: one, a batch (an array, allowed by the 2025-03-26
 * revision), or null when the body is not JSON-RPC from a client.
 */
export function parseRpc(body: unknown): RpcRequest | RpcRequest[] | null {
  if (Array.isArray(body)) {
    const all = body.map(asRequest);
    return all.length > 0 && all.every((r): r is RpcRequest => r !== null) ? all : null;
  }
  return asRequest(body);
}

/** A JSON-RPC error response. */
export function rpcError(id: RpcId | undefined, code: number, message: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id: id ?? null, error: { code, message } });
}

/** The tool a `tools/call` names, or null. */
export function toolName(req: RpcRequest): string | null {
  const name = req.params?.['name'];
  return typeof name === 'string' ? name : null;
}

/** Every string in a `tools/call`'s arguments, in document order. */
export function argumentTexts(req: RpcRequest): string[] {
  const texts: string[] = [];
  walkStrings(req.params?.['arguments'], (s) => {
    texts.push(s);
    return undefined;
  });
  return texts;
}

/** Replaces the argument strings (aligned with `argumentTexts`; null keeps one). */
export function rewriteArguments(req: RpcRequest, texts: ReadonlyArray<string | null>): void {
  const params = req.params;
  if (params === null) return;
  let i = 0;
  params['arguments'] = walkStrings(params['arguments'], () => texts[i++] ?? undefined);
}

/**
 * Visits every text a tool result returns: `content[]` text items, embedded text resources, and
 * every string of `structuredContent`. `fn` may return a replacement.
 */
export function visitResultTexts(result: Record<string, unknown>, fn: (text: string) => string | undefined): void {
  const content = result['content'];
  if (Array.isArray(content)) {
    for (const raw of content) {
      const item = asObject(raw);
      if (item === null) continue;
      if (item['type'] === 'text' && typeof item['text'] === 'string') item['text'] = fn(item['text']) ?? item['text'];
      const resource = asObject(item['resource']);
      if (resource !== null && typeof resource['text'] === 'string') resource['text'] = fn(resource['text']) ?? resource['text'];
    }
  }
  if ('structuredContent' in result) result['structuredContent'] = walkStrings(result['structuredContent'], fn);
}

/** Removes the tools `allowed` refuses from a `tools/list` result; returns how many went. */
export function filterTools(result: Record<string, unknown>, allowed: (name: string) => boolean): number {
  const tools = result['tools'];
  if (!Array.isArray(tools)) return 0;
  const kept = tools.filter((t) => {
    const name = asObject(t)?.['name'];
    return typeof name !== 'string' || allowed(name);
  });
  result['tools'] = kept;
  return tools.length - kept.length;
}
