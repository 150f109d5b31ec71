import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentConfig } from '../../../shared/schema/config.js';
import { gatewayConfig } from '../../../shared/schema/gateway-config.js';
import { loadAgentConfig } from '../../../agent/config/load.js';
import { InvalidDocumentError } from '../../../shared/schema/validate.js';
import { exampleFile } from '../../support/repo.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-config-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});

describe('the agent config', () => {
  it('accepts the shipped example', async () => {
    const c = agentConfig.parse(JSON.parse(await fs.readFile(exampleFile('agent.json'), 'utf8')));
    expect(c.proxy).toMatchObject({ host: '127.0.0.1', port: 8787 });
    expect(c.upstream.resolve['api.openai.com']).toBe('127.0.0.1:9443');
  });

  it('has a default for every field, so {} is a whole config', () => {
    const c = agentConfig.parse({});
    expect(c).toMatchObject({ home: '~/.outpost', policyFile: null, proxy: { port: 8787, maxBodyBytes: 32 * 1024 * 1024, decompression: { maxBytes: 256 * 1024 * 1024, maxRatio: 100 } }, ca: { mode: 'standalone', nameConstraints: true } });
  });

  it('offers HTTP/2 to clients and, by default, HTTP/1.1 only to providers (issue 18: the faster upstream in the bench)', () => {
    const c = agentConfig.parse({});
    expect(c.proxy.http2).toBe(true);
    expect(c.upstream.http2).toBe(false);
    expect(agentConfig.parse({ proxy: { http2: false }, upstream: { http2: true } })).toMatchObject({ proxy: { http2: false }, upstream: { http2: true } });
  });

  it('bounds decoding compressed responses, and names a bound that makes no sense', () => {
    expect(agentConfig.parse({ proxy: { decompression: { maxRatio: 20 } } }).proxy.decompression).toEqual({ maxBytes: 256 * 1024 * 1024, maxRatio: 20 });
    const r = agentConfig.safeParse({ proxy: { decompression: { maxRatio: 1 } } });
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues[0]?.path).toEqual(['proxy', 'decompression', 'maxRatio']);
  });

  it('refuses a proxy that would listen on the network', () => {
    const r = agentConfig.safeParse({ proxy: { host: '0.0.0.0' } });
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues[0]?.path).toEqual(['proxy', 'host']);
  });

  it('refuses an unknown field', () => {
    expect(agentConfig.safeParse({ proxy: { prot: 1 } }).success).toBe(false);
  });

  it('resolves relative paths against the config file folder and expands ~', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'agent.json');
    await fs.writeFile(file, JSON.stringify({ home: '~/outpost-home', policyFile: 'policies/p.json', upstream: { caFile: '../ca.pem' } }));
    const c = await loadAgentConfig(file, {});
    expect(c.home).toBe(path.join(os.homedir(), 'outpost-home'));
    expect(c.policyFile).toBe(path.join(dir, 'policies', 'p.json'));
    expect(c.upstream.caFile).toBe(path.join(path.dirname(dir), 'ca.pem'));
    expect(c.source).toBe(file);
  });

  it('lets OUTPOST_HOME override home', async () => {
    const dir = await tempDir();
    const c = await loadAgentConfig(null, { OUTPOST_HOME: dir });
    expect(c.home).toBe(dir);
  });

  it('names the file and each problem when invalid', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'agent.json');
    await fs.writeFile(file, JSON.stringify({ proxy: { port: 70000 }, log: { level: 'loud' } }));
    const err = await loadAgentConfig(file, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidDocumentError);
    expect((err as InvalidDocumentError).problems.map((p) => p.path)).toEqual(['$.proxy.port', '$.log.level']);
  });

  it('says when the file is not JSON', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'agent.json');
    await fs.writeFile(file, '{ "home": ');
    await expect(loadAgentConfig(file, {})).rejects.toThrow(/not valid JSON/);
  });
});

describe('the gateway config', () => {
  it('accepts the shipped example', async () => {
    const c = gatewayConfig.parse(JSON.parse(await fs.readFile(exampleFile('gateway.json'), 'utf8')));
    expect(c.store).toEqual({ kind: 'sqlite', path: 'gateway.db' });
    expect(c.listen.port).toBe(8790);
  });

  it('needs a URL for a PostgreSQL store', () => {
    expect(gatewayConfig.safeParse({ store: { kind: 'postgres' } }).success).toBe(false);
  });
});
