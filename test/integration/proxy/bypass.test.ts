/**
 * No way around it (issue 20): the host a client really talks to decides, however the client
 * addresses it. Real curl (`--connect-to`), raw sockets and Node TLS through the real engine; the
 * first part through the whole agent (default policy: credentials blocked) with its audit log.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readControlToken } from '../../../agent/control/token.js';
import { agentStatus } from '../../../shared/schema/control.js';
import { startTestAgent, type TestAgent } from '../../support/agent.js';
import { readHead, startWorld, until, type ProxyWorld } from './harness.js';

const run = promisify(execFile);

/** What curl got: exit code, HTTP status (0 when none), body. */
interface CurlOut {
  readonly code: number;
  readonly status: number;
  readonly body: string;
}

/** curl through `proxy` with `--connect-to` mappings; `-w` appends the status on its own line. */
async function curl(proxy: string, caFile: string | null, connectTo: string[], url: string, extra: string[] = []): Promise<CurlOut> {
  const args = ['-sS', '--http1.1', '--max-time', '15', '--proxy', proxy, '-w', '\n%{http_code}', ...(caFile === null ? ['-k'] : ['--cacert', caFile])];
  for (const c of connectTo) args.push('--connect-to', c);
  args.push(...extra, url);
  try {
    const { stdout } = await run('curl', args);
    const at = stdout.lastIndexOf('\n');
    return { code: 0, status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) };
  } catch (err) {
    const e = err as { code: number; stdout?: string };
    return { code: e.code, status: Number((e.stdout ?? '').split('\n').at(-1) ?? 0) || 0, body: e.stdout ?? '' };
  }
}

const SECRET_PROMPT = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'deploy with AKIAIOSFODNN7EXAMPLE and wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }],
});

describe('a CONNECT to the provider\'s IP address, through the whole agent', () => {
  let t: TestAgent;
  let caFile: string;
  beforeAll(async () => {
    t = await startTestAgent();
    caFile = t.agent.ca.caFile;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is intercepted by its SNI: a prompt with an AWS key pair is blocked and recorded, with the address the client asked for', async () => {
    const to = `api.openai.com:443:127.0.0.1:${t.provider.port}`;
    const out = await curl(t.proxyUrl, caFile, [to], 'https://api.openai.com/v1/chat/completions', ['-H', 'content-type: application/json', '-H', 'authorization: Bearer sk-test', '--data-binary', SECRET_PROMPT]);
    expect(out.code, out.body).toBe(0);
    expect(out.status, out.body).toBe(403);
    expect(out.body).toContain('Outpost blocked this request');
    expect(out.body).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(t.provider.requests).toEqual([]);

    t.agent.store.audit.flushNow();
    const records = t.agent.store.audit.recordsAfter(0);
    const connect = records.find((r) => r.kind === 'connect');
    expect(connect).toMatchObject({ host: 'api.openai.com', decision: 'allow', rules: [expect.objectContaining({ id: 'bypass', kind: 'bypass-ip-literal' })] });
    expect(connect?.rules[0]?.explanation).toContain(`127.0.0.1:${t.provider.port}`);
    expect(records.find((r) => r.kind === 'request')).toMatchObject({ host: 'api.openai.com', decision: 'block' });

    const status = t.agent.status();
    expect(status.engine.bypass.counts).toContainEqual({ kind: 'ip-literal', action: 'intercepted', count: 1 });
    expect(status.engine.bypass.recent.at(-1)).toMatchObject({ kind: 'ip-literal', host: 'api.openai.com' });
    // The control API: the status document (which sync uploads to the gateway) and the metrics.
    const token = (await readControlToken(t.home)) ?? '';
    const served = agentStatus.parse(await (await fetch(`${t.agent.control.url}/v1/status`, { headers: { authorization: `Bearer ${token}` } })).json());
    expect(served.engine.bypass.total).toBeGreaterThanOrEqual(1);
    const metrics = await (await fetch(`${t.agent.control.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    expect(metrics).toMatch(/outpost_bypass_attempts_total\{kind="ip-literal",decision="allow"\} 1/);
  });

  it('does the same for an IPv6 literal', async () => {
    // Something must answer at the address (a tunnel dials it first); the request itself goes to
    // the provider by the name its TLS carried.
    const held = new Set<net.Socket>();
    const listener = net.createServer((s) => {
      held.add(s);
      s.on('error', () => {});
    });
    await new Promise<void>((resolve) => listener.listen(0, '::1', resolve));
    try {
      const port = (listener.address() as net.AddressInfo).port;
      const out = await curl(t.proxyUrl, caFile, [`api.openai.com:443:[::1]:${port}`], 'https://api.openai.com/v1/chat/completions', ['-H', 'content-type: application/json', '--data-binary', SECRET_PROMPT]);
      expect(out.status, `${out.code} ${out.body}`).toBe(403);
      expect(t.provider.requests).toEqual([]);
      expect(t.agent.status().engine.bypass.recent.at(-1)).toMatchObject({ kind: 'ip-literal', action: 'intercepted', detail: expect.stringContaining(`[::1]:${port}`) });
    } finally {
      for (const s of held) s.destroy();
      listener.close();
    }
  });
});

describe('names that disagree, and addresses without names (engine)', () => {
  let world: ProxyWorld;
  beforeAll(async () => {
    // harmless.example goes to the fake provider too (a CDN serving many names).
    world = await startWorld({ providerAliases: ['harmless.example', 'other.example'] });
  });
  afterAll(async () => {
    await world.close();
  });

  /** The certificate a client meets: the agent's leaf (intercepted) or the fake provider's own. */
  const peer = async (authority: string, servername: string | undefined): Promise<{ san: string; fingerprint: string } | Error> => {
    const socket = net.connect(world.engine.address.port, '127.0.0.1');
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    const reply = await readHead(socket);
    if (reply.status !== 200) return new Error(`CONNECT answered ${reply.status}`);
    const secure = tls.connect({ socket: reply.socket, ...(servername === undefined ? {} : { servername }), ca: world.ca.caPem, checkServerIdentity: () => undefined });
    return new Promise((resolve) => {
      secure.once('secureConnect', () => {
        const cert = secure.getPeerCertificate();
        resolve({ san: cert.subjectaltname ?? '', fingerprint: cert.fingerprint256 });
        secure.destroy();
      });
      secure.once('error', (err) => resolve(err));
    });
  };

  it('intercepts an AI name hiding behind a harmless CONNECT (domain fronting), with a leaf for the AI name', async () => {
    const before = world.engine.stats().intercepted;
    const out = await curl(world.engine.url, world.ca.caFile, ['api.openai.com:443:harmless.example:443'], 'https://api.openai.com/v1/models');
    expect(out.status).toBe(200);
    expect(world.engine.stats().intercepted).toBe(before + 1);
    expect(world.events.at(-1)).toMatchObject({ host: 'api.openai.com', outcome: 'bypass', attempt: { kind: 'sni-mismatch', action: 'intercepted' } });
    expect(world.events.at(-1)?.reason).toContain('harmless.example');
  });

  it('governs a harmless name hiding behind an AI CONNECT as the AI host (the stricter name)', async () => {
    const seen = await peer('api.openai.com:443', 'harmless.example');
    expect(seen).not.toBeInstanceOf(Error);
    expect((seen as { san: string }).san).toBe('DNS:api.openai.com');
    expect(world.events.at(-1)).toMatchObject({ host: 'api.openai.com', attempt: { kind: 'sni-mismatch', action: 'intercepted' } });
  });

  it('refuses a blocked name behind a harmless CONNECT', async () => {
    const seen = await peer('harmless.example:443', 'api.deepseek.com');
    expect(seen).toBeInstanceOf(Error);
    expect(world.events.at(-1)).toMatchObject({ host: 'api.deepseek.com', attempt: { kind: 'sni-mismatch', action: 'blocked' } });
  });

  it('lets two harmless names that disagree through as a tunnel, unreported', async () => {
    const events = world.events.length;
    const seen = await peer('harmless.example:443', 'other.example');
    expect(seen).not.toBeInstanceOf(Error);
    expect((seen as { san: string }).san).not.toContain('other.example');
    expect(world.events.length).toBe(events);
  });

  it('refuses a blocked name behind an IP literal', async () => {
    const seen = await peer(`127.0.0.1:${world.provider.port}`, 'api.deepseek.com');
    expect(seen).toBeInstanceOf(Error);
    expect(world.events.at(-1)).toMatchObject({ host: 'api.deepseek.com', attempt: { kind: 'ip-literal', action: 'blocked' } });
  });

  it('tunnels an IP literal without a server name by default, audited', async () => {
    const seen = await peer(`127.0.0.1:${world.provider.port}`, undefined);
    expect(seen).not.toBeInstanceOf(Error);
    expect(world.events.at(-1)).toMatchObject({ host: '127.0.0.1', attempt: { kind: 'no-server-name', action: 'tunnelled' } });
  });

  it('passes a tunnelled server-first protocol untouched (the server speaks before the client)', async () => {
    const banner = net.createServer((s) => {
      s.write('220 hello from the server\r\n');
      s.on('data', (d) => s.end(`echo ${d.toString()}`));
    });
    await new Promise<void>((resolve) => banner.listen(0, '127.0.0.1', resolve));
    const port = (banner.address() as net.AddressInfo).port;
    const local = await startWorld({ resolve: { 'mail.example': `127.0.0.1:${port}` } });
    try {
      for (const authority of [`mail.example:${port}`, `127.0.0.1:${port}`]) {
        const socket = net.connect(local.engine.address.port, '127.0.0.1');
        socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
        const reply = await readHead(socket);
        expect(reply.status).toBe(200);
        let got = reply.rest.toString();
        const greeting = new Promise<void>((resolve) => {
          const check = (): void => {
            if (got.includes('\r\n')) resolve();
          };
          reply.socket.on('data', (d: Buffer) => {
            got += d.toString();
            check();
          });
          check();
        });
        const ended = new Promise<void>((resolve) => reply.socket.once('end', resolve));
        reply.socket.resume();
        await greeting;
        expect(got).toBe('220 hello from the server\r\n');
        reply.socket.write('EHLO me');
        await ended;
        expect(got).toBe('220 hello from the server\r\necho EHLO me');
        reply.socket.destroy();
      }
    } finally {
      await local.close();
      banner.close();
    }
  });

  it('governs intercepted hosts on any port the same as on 443', async () => {
    const before = world.engine.stats().intercepted;
    const out = await curl(world.engine.url, world.ca.caFile, [], 'https://api.openai.com:8443/v1/models');
    expect(out.status).toBe(200);
    expect(world.engine.stats().intercepted).toBe(before + 1);
    expect(world.provider.requests.at(-1)).toMatchObject({ path: '/v1/models' });
  });
});

describe('a Host header that differs from the server name', () => {
  let world: ProxyWorld;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world.close();
  });

  it('refuses a request to a blocked host inside intercepted TLS for an allowed one', async () => {
    const out = await curl(world.engine.url, world.ca.caFile, [], 'https://api.openai.com/v1/models', ['-H', 'Host: api.deepseek.com']);
    expect(out.status).toBe(403);
    expect(world.provider.requests).toEqual([]);
    expect(world.events.at(-1)).toMatchObject({ host: 'api.deepseek.com', attempt: { kind: 'host-mismatch', action: 'blocked' } });
    expect(world.events.at(-1)?.reason).toContain('api.openai.com');
  });

  it('governs a harmless Host inside an AI host\'s TLS as the AI host, audited with both names', async () => {
    const out = await curl(world.engine.url, world.ca.caFile, [], 'https://api.openai.com/v1/models', ['-H', 'Host: harmless.example']);
    // Forwarded, governed, to api.openai.com's server, which answers a name it does not serve 421.
    expect(out.status).toBe(421);
    expect(world.provider.requests.at(-1)).toMatchObject({ path: '/v1/models' });
    expect(world.events.at(-1)).toMatchObject({ host: 'api.openai.com', attempt: { kind: 'host-mismatch', action: 'intercepted' } });
    expect(world.events.at(-1)?.reason).toContain('harmless.example');
  });

  it('decides plain-HTTP forwarding by the Host too: an AI or blocked name behind a harmless URL', async () => {
    const blocked = await curl(world.engine.url, null, [], 'http://harmless.example/v1/models', ['-H', 'Host: api.deepseek.com']);
    expect(blocked.status).toBe(403);
    expect(world.events.at(-1)).toMatchObject({ host: 'api.deepseek.com', attempt: { kind: 'host-mismatch', action: 'blocked' } });
    expect(world.events.at(-1)?.reason).toContain('http://harmless.example');
    await curl(world.engine.url, null, [], 'http://203.0.113.9:1/v1/models', ['-H', 'Host: api.openai.com', '--max-time', '5']);
    expect(world.events.at(-1)).toMatchObject({ host: 'api.openai.com', attempt: { kind: 'host-mismatch', action: 'intercepted' } });
    const events = world.events.length;
    await curl(world.engine.url, null, [], 'http://127.0.0.1:1/', ['-H', 'Host: other.example']);
    expect(world.events.length).toBe(events);
  });

  it('lets a Host with the port or another case pass as the same host', async () => {
    const events = world.events.length;
    const out = await curl(world.engine.url, world.ca.caFile, [], 'https://api.openai.com/v1/models', ['-H', 'Host: API.OpenAI.com:443']);
    expect(out.status).toBe(200);
    expect(world.events.length).toBe(events);
  });
});

describe('policy: nameMismatch block, noServerName block', () => {
  let world: ProxyWorld;
  beforeAll(async () => {
    world = await startWorld({ bypassPolicy: { nameMismatch: 'block', noServerName: 'block' } });
  });
  afterAll(async () => {
    await world.close();
  });

  it('refuses fronting and an unnamed IP literal, audited', async () => {
    const out = await curl(world.engine.url, world.ca.caFile, [`api.openai.com:443:127.0.0.1:${world.provider.port}`], 'https://api.openai.com/v1/models', ['-H', 'Host: harmless.example']);
    // The IP literal's SNI is an intercepted name: intercepted, and the Host that differs is refused.
    expect(out.status).toBe(403);
    expect(world.events.at(-1)).toMatchObject({ attempt: { kind: 'host-mismatch', action: 'blocked' } });

    const socket = net.connect(world.engine.address.port, '127.0.0.1');
    socket.write(`CONNECT 127.0.0.1:${world.provider.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const reply = await readHead(socket);
    expect(reply.status).toBe(200);
    const closed = new Promise((resolve) => reply.socket.once('close', resolve));
    const secure = tls.connect({ socket: reply.socket, ca: world.ca.caPem, checkServerIdentity: () => undefined });
    secure.on('error', () => {});
    await closed;
    await until(() => world.events.at(-1)?.attempt?.kind === 'no-server-name', 'the no-server-name record');
    expect(world.events.at(-1)).toMatchObject({ attempt: { kind: 'no-server-name', action: 'blocked' } });
  });
});
