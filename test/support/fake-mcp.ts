/**
 * A remote MCP server for tests, built from the official SDK's server classes (`McpServer` and the
 * Streamable HTTP transport) over HTTPS on 127.0.0.1, stateless (a server per request, as the SDK's
 * stateless example runs). It answers on every host its certificate names (`FAKE_MCP_HOSTS`) at
 * `/mcp`, with SSE answers by default or JSON ones (`jsonResponse`). Its tools:
 * - `search_tickets({ query })`: a text naming a contact by e-mail (output redaction);
 * - `delete_ticket({ id })`: policy tests deny it;
 * - `read_config()`: a text with an AWS access key id (output blocking);
 * - `echo({ text })`: the text back, also as structured content.
 * Every tool call that reached it is in `calls`.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { closeServer, listenOnFreePort } from './ports.js';
import type { TestCa } from './test-ca.js';

/** Hosts the fake MCP server answers for: one a policy lists, one it does not. */
export const FAKE_MCP_HOSTS = { listed: 'mcp.tickets.example', unlisted: 'mcp.unlisted.example' } as const;

/** A tool call the server received. */
export interface ReceivedCall {
  readonly host: string;
  readonly tool: string;
  readonly args: Record<string, unknown>;
}

/** A running fake MCP server. */
export interface FakeMcpServer {
  readonly address: string;
  readonly calls: ReceivedCall[];
  /** JSON answers instead of SSE (the transport's `enableJsonResponse`); read per request. */
  jsonResponse: boolean;
  /** Each fake host → `address` (the shape of `upstream.resolve`). */
  resolveMap(): Record<string, string>;
  close(): Promise<void>;
}

function buildServer(host: string, calls: ReceivedCall[]): McpServer {
  const server = new McpServer({ name: 'fake-tickets', version: '1.0.0' });
  const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
  server.registerTool('search_tickets', { description: 'Search tickets', inputSchema: { query: z.string() } }, ({ query }) => {
    calls.push({ host, tool: 'search_tickets', args: { query } });
    return text(`Ticket 42 matches "${query}"; contact jane.doe@acme.example for details.`);
  });
  server.registerTool('delete_ticket', { description: 'Delete a ticket', inputSchema: { id: z.string() } }, ({ id }) => {
    calls.push({ host, tool: 'delete_ticket', args: { id } });
    return text(`Ticket ${id} deleted.`);
  });
  server.registerTool('read_config', { description: 'Read the deployment config' }, () => {
    calls.push({ host, tool: 'read_config', args: {} });
    return text('region=eu-west-1\naws_access_key_id=AKIAIOSFODNN7EXAMPLE');
  });
  server.registerTool('echo', { description: 'Echo a text', inputSchema: { text: z.string() }, outputSchema: { text: z.string() } }, ({ text: t }) => {
    calls.push({ host, tool: 'echo', args: { text: t } });
    return { content: [{ type: 'text' as const, text: t }], structuredContent: { text: t } };
  });
  return server;
}

/** Starts the fake MCP server with a certificate from `ca`. */
export async function startFakeMcpServer(ca: TestCa): Promise<FakeMcpServer> {
  const leaf = ca.issue([...Object.values(FAKE_MCP_HOSTS)]);
  const calls: ReceivedCall[] = [];
  const state = { jsonResponse: false };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (new URL(req.url ?? '/', 'https://x').pathname !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    if (req.method !== 'POST') {
      // Stateless: no server-initiated stream, no session to end.
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const server = buildServer(host, calls);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: state.jsonResponse });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  }

  const https: Server = createServer({ key: leaf.key, cert: leaf.cert }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
      else res.destroy();
    });
  });
  const port = await listenOnFreePort(https);
  const address = `127.0.0.1:${port}`;
  return Object.assign(state, {
    address,
    calls,
    resolveMap: () => Object.fromEntries(Object.values(FAKE_MCP_HOSTS).map((h) => [h, address])),
    close: () => closeServer(https),
  });
}
