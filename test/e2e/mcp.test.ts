/**
 * Remote MCP servers through the whole agent (issue 16.2): the official `@modelcontextprotocol/sdk`
 * client, over HTTPS through the proxy, against a server built from the SDK's own server classes.
 * The policy lists `https://mcp.tickets.example/mcp` with `delete_*` denied. A denied tool is
 * refused with a JSON-RPC error naming the rule and never reaches the server, and is missing from
 * `tools/list`; input guardrails run on a call's arguments and output guardrails on its result (SSE
 * and JSON answers); each call has one audit record. An unlisted server is governed or refused as
 * `mcp.unlisted` says.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../support/agent.js';
import { fetchFor, type ClientHandle } from '../support/clients.js';
import { startFakeProvider, type FakeProvider } from '../support/fake-provider.js';
import { FAKE_MCP_HOSTS, startFakeMcpServer, type FakeMcpServer } from '../support/fake-mcp.js';
import { createTestCa, type TestCa } from '../support/test-ca.js';
import type { PolicyInput } from '../../shared/schema/policy.js';
import type { AuditRecord } from '../../shared/schema/audit.js';

const policy = (unlisted: 'allow' | 'block'): PolicyInput => ({
  version: 1,
  name: 'mcp',
  interception: { hosts: ['api.openai.com', FAKE_MCP_HOSTS.unlisted] },
  mcp: { unlisted, servers: [{ id: 'tickets', url: `https://${FAKE_MCP_HOSTS.listed}/mcp`, tools: { allow: ['*'], deny: ['delete_*'] } }] },
  guardrails: [
    { id: 'secrets', type: 'secrets', on: ['input', 'output'], action: 'block' },
    { id: 'pii', type: 'pii', entities: ['email'], on: ['input', 'output'], action: 'redact' },
  ],
  audit: { recordPrompts: 'redacted', retentionDays: 30 },
});

describe('remote MCP servers through the whole agent', () => {
  let ca: TestCa;
  let provider: FakeProvider;
  let mcp: FakeMcpServer;
  let t: TestAgent;
  const handles: Array<ClientHandle<unknown>> = [];
  const clients: Client[] = [];
  const recordsAfter = (seq: number): AuditRecord[] => {
    t.agent.store.audit.flushNow();
    return t.agent.store.audit.recordsAfter(seq);
  };
  const lastSeq = (): number => recordsAfter(0).at(-1)?.seq ?? 0;

  /** The SDK client connected to `host`'s /mcp through the agent (initialize included). */
  const connect = async (host: string): Promise<Client> => {
    const route = fetchFor({ proxyUrl: t.proxyUrl, ca: t.caPem });
    handles.push(route);
    const client = new Client({ name: 'outpost-test', version: '1.0.0' });
    clients.push(client);
    await client.connect(new StreamableHTTPClientTransport(new URL(`https://${host}/mcp`), { fetch: route.client }));
    return client;
  };
  const textOf = (r: Awaited<ReturnType<Client['callTool']>>): string => (r.content as Array<{ type: string; text?: string }>).map((c) => c.text ?? '').join('');

  beforeAll(async () => {
    ca = await createTestCa();
    provider = await startFakeProvider({ ca });
    mcp = await startFakeMcpServer(ca);
    t = await startTestAgent({ policy: policy('allow'), provider: { provider, ca }, config: { upstream: { resolve: { ...provider.resolveMap(), ...mcp.resolveMap() }, caFile: ca.caFile } } });
  });
  beforeEach(() => {
    mcp.calls.length = 0;
    mcp.jsonResponse = false;
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(handles.map((h) => h.close()));
    await t?.close();
    await mcp?.close();
    await provider?.close();
    await ca?.dispose();
  });

  it("listing the server intercepts its host (the CA's name constraints include it)", () => {
    expect(t.agent.status().ca.permittedDns).toContain(FAKE_MCP_HOSTS.listed);
  });

  it('initialize and tools/list pass; a denied tool is removed from the list so the model never tries it', async () => {
    const client = await connect(FAKE_MCP_HOSTS.listed);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['echo', 'read_config', 'search_tickets']);
  });

  it('a denied tool is refused with a JSON-RPC error naming the rule; the server never sees it; one record', async () => {
    const client = await connect(FAKE_MCP_HOSTS.listed);
    const from = lastSeq();
    const err = (await client.callTool({ name: 'delete_ticket', arguments: { id: '42' } }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain('delete_*');
    expect(err.message).toContain('tickets');
    expect(mcp.calls).toHaveLength(0);
    const records = recordsAfter(from);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ host: FAKE_MCP_HOSTS.listed, provider: 'tickets', endpoint: 'tools/call', tool: 'delete_ticket', decision: 'block', rules: [expect.objectContaining({ id: 'mcp', kind: 'tool-denied' })] });
  });

  it('an allowed call runs: the e-mail address in its streamed (SSE) result is redacted; one record with latency', async () => {
    const client = await connect(FAKE_MCP_HOSTS.listed);
    const from = lastSeq();
    const r = await client.callTool({ name: 'search_tickets', arguments: { query: 'printer on fire' } });
    expect(textOf(r)).toContain('Ticket 42 matches "printer on fire"');
    expect(textOf(r)).not.toContain('jane.doe@acme.example');
    expect(mcp.calls).toEqual([{ host: FAKE_MCP_HOSTS.listed, tool: 'search_tickets', args: { query: 'printer on fire' } }]);
    const [record] = recordsAfter(from);
    expect(record).toMatchObject({ provider: 'tickets', endpoint: 'tools/call', tool: 'search_tickets', decision: 'redact', status: 200, prompt: 'printer on fire' });
    expect(record?.latencyMs).toBeGreaterThan(0);
    expect(record?.output).not.toContain('jane.doe@acme.example');
  });

  it("input guardrails run on the arguments: an e-mail address is redacted before the server sees it, a credential blocks the call", async () => {
    const client = await connect(FAKE_MCP_HOSTS.listed);
    const r = await client.callTool({ name: 'echo', arguments: { text: 'write to jane.doe@acme.example' } });
    expect(mcp.calls[0]?.args['text']).not.toContain('jane.doe@acme.example');
    expect(textOf(r)).toContain('write to ');
    const from = lastSeq();
    const err = (await client.callTool({ name: 'echo', arguments: { text: 'key AKIAIOSFODNN7EXAMPLE' } }).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('secrets');
    expect(mcp.calls).toHaveLength(1);
    expect(recordsAfter(from)[0]).toMatchObject({ tool: 'echo', decision: 'block', rules: [expect.objectContaining({ id: 'secrets', target: 'input' })] });
  });

  it('output guardrails on a JSON answer: a result carrying a credential is replaced by an error; structured content redacted too', async () => {
    mcp.jsonResponse = true;
    const client = await connect(FAKE_MCP_HOSTS.listed);
    const from = lastSeq();
    const err = (await client.callTool({ name: 'read_config', arguments: {} }).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('secrets');
    expect(err.message).not.toContain('AKIA');
    expect(mcp.calls.map((c) => c.tool)).toEqual(['read_config']);
    expect(recordsAfter(from)[0]).toMatchObject({ tool: 'read_config', decision: 'block', rules: [expect.objectContaining({ id: 'secrets', target: 'output' })] });

    mcp.calls.length = 0;
    const echoed = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
    expect(echoed.structuredContent).toEqual({ text: 'hello' });
  });

  it('an unlisted MCP server on an intercepted host is governed with every tool allowed, recorded under its host', async () => {
    const client = await connect(FAKE_MCP_HOSTS.unlisted);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toContain('delete_ticket');
    const from = lastSeq();
    await client.callTool({ name: 'delete_ticket', arguments: { id: '7' } });
    expect(mcp.calls).toEqual([{ host: FAKE_MCP_HOSTS.unlisted, tool: 'delete_ticket', args: { id: '7' } }]);
    expect(recordsAfter(from)[0]).toMatchObject({ host: FAKE_MCP_HOSTS.unlisted, provider: FAKE_MCP_HOSTS.unlisted, tool: 'delete_ticket', decision: 'allow' });
  });

  it('with unlisted: block, an unlisted server is refused from initialize on; the listed one still works', async () => {
    await t.agent.applyPolicy((await import('../../shared/schema/policy.js')).policy.parse({ ...policy('block'), version: 2 }), 'test');
    const from = lastSeq();
    const err = (await connect(FAKE_MCP_HOSTS.unlisted).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('not approved');
    expect(mcp.calls).toHaveLength(0);
    expect(recordsAfter(from)[0]).toMatchObject({ host: FAKE_MCP_HOSTS.unlisted, endpoint: 'initialize', decision: 'block', rules: [expect.objectContaining({ kind: 'server-not-listed' })] });
    const listed = await connect(FAKE_MCP_HOSTS.listed);
    expect(textOf(await listed.callTool({ name: 'echo', arguments: { text: 'still here' } }))).toBe('still here');
  });
});
