/** Policy `mcp`: remote MCP servers and their tool rules, validated, intercepted by listing them, and compiled. */
import { describe, expect, it } from 'vitest';
import { compileMcpRules } from '../../../shared/core/mcp-rules.js';
import { policy, type PolicyInput } from '../../../shared/schema/policy.js';
import { problemsOf } from '../../../shared/schema/validate.js';

const base = (mcp: PolicyInput['mcp']): PolicyInput => ({ version: 1, name: 'mcp', interception: { hosts: ['api.openai.com'] }, mcp });

function problems(doc: unknown): string[] {
  const r = policy.safeParse(doc);
  return r.success ? [] : problemsOf(r.error).map((p) => `${p.path}: ${p.message}`);
}

describe('policy mcp block', () => {
  it('defaults: unlisted servers allowed, none listed; every tool allowed on a listed server', () => {
    const p = policy.parse(base(undefined));
    expect(p.mcp).toEqual({ unlisted: 'allow', servers: [] });
    const q = policy.parse(base({ servers: [{ id: 'tickets', url: 'https://mcp.tickets.example/mcp' }] }));
    expect(q.mcp.servers[0]?.tools).toEqual({ allow: ['*'], deny: [] });
  });

  it("intercepts each listed server's host (once), keeping the policy's own", () => {
    const p = policy.parse(base({ servers: [{ id: 'a', url: 'https://mcp.tickets.example/mcp' }, { id: 'b', url: 'https://MCP.tickets.example:8443/other/' }] }));
    expect(p.interception.hosts).toEqual(['api.openai.com', 'mcp.tickets.example']);
    expect(policy.parse(JSON.parse(JSON.stringify(p)))).toEqual(p);
  });

  it.each([
    ['http URL', { servers: [{ id: 'a', url: 'http://mcp.tickets.example/mcp' }] }, '$.mcp.servers[0].url'],
    ['URL with a query', { servers: [{ id: 'a', url: 'https://mcp.tickets.example/mcp?token=x' }] }, '$.mcp.servers[0].url'],
    ['not a URL', { servers: [{ id: 'a', url: 'mcp.tickets.example' }] }, '$.mcp.servers[0].url'],
    ['duplicate id', { servers: [{ id: 'a', url: 'https://a.example/mcp' }, { id: 'a', url: 'https://b.example/mcp' }] }, '$.mcp.servers[1].id'],
    ['same URL twice', { servers: [{ id: 'a', url: 'https://a.example/mcp' }, { id: 'b', url: 'https://a.example/mcp/' }] }, '$.mcp.servers[1].url'],
    ['unknown unlisted mode', { unlisted: 'ask' }, '$.mcp.unlisted'],
    ['a misspelled field', { servers: [{ id: 'a', url: 'https://a.example/mcp', tool: {} }] }, '$.mcp.servers[0]'],
  ] as Array<[string, unknown, string]>)('refuses %s with its path', (_what, mcp, path) => {
    const found = problems({ ...base(undefined), mcp });
    expect(found.some((p) => p.startsWith(path))).toBe(true);
  });
});

describe('compiled MCP rules', () => {
  const rules = compileMcpRules(policy.parse(base({ unlisted: 'block', servers: [{ id: 'tickets', url: 'https://mcp.tickets.example/mcp', tools: { allow: ['search_*', 'delete_*', 'echo'], deny: ['delete_*'] } }] })).mcp);

  it('finds a listed server by host, port and path (a trailing slash is the same path)', () => {
    expect(rules.server('mcp.tickets.example', '/mcp')?.id).toBe('tickets');
    expect(rules.server('mcp.tickets.example', '/mcp/')?.id).toBe('tickets');
    expect(rules.server('mcp.tickets.example', '/other')).toBeNull();
    expect(rules.server('mcp.tickets.example:8443', '/mcp')).toBeNull();
    expect(rules.unlisted).toBe('block');
  });

  it('deny wins over allow, and a tool outside allow is refused; each refusal names its rule', () => {
    const server = rules.server('mcp.tickets.example', '/mcp');
    expect(rules.tool(server, 'search_tickets')).toEqual({ allowed: true });
    expect(rules.tool(server, 'delete_ticket')).toEqual({ allowed: false, rule: 'tool "delete_ticket" is denied by "delete_*" in mcp.servers "tickets" tools.deny' });
    expect(rules.tool(server, 'drop_table')).toMatchObject({ allowed: false, rule: expect.stringContaining('matches none of mcp.servers "tickets" tools.allow') });
    expect(rules.tool(null, 'anything')).toEqual({ allowed: true });
  });
});
