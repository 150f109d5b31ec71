/**
 * The gateway link as `/v1/status` reports it for the tray (issue 13): a real agent and a real
 * gateway behind a TCP relay the test controls. Connected: the policy version in force and when the
 * gateway signed it. Cut off: since when the server is unreachable, a moment that retries do not
 * move, cleared once connected again. Restarted offline: the kept policy's signing time is still known.
 * The tray's words for each state come from the real status (app/logic/company-link.ts).
 */
import { once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import type { TestAgent } from '../../support/agent.js';
import { agentStatus, type AgentStatus } from '../../../shared/schema/control.js';
import { companyLink } from '../../../app/logic/company-link.js';
import { connected, enrolledHome, policyHandled, startRelay, startSyncedAgent, syncOf, type Relay } from './support.js';

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function statusOf(t: TestAgent): Promise<AgentStatus> {
  const token = (await fs.readFile(path.join(t.home, 'control.token'), 'utf8')).trim();
  const res = await fetch(`${t.agent.control.url}/v1/status`, { headers: { authorization: `Bearer ${token}` } });
  return agentStatus.parse(await res.json());
}

describe('the gateway link in status', () => {
  let gw: TestGateway;
  let relay: Relay;
  let home: string;
  let t: TestAgent | null = null;

  beforeAll(async () => {
    gw = await startTestGateway();
    relay = await startRelay(gw.url);
    home = await enrolledHome(gw, { url: relay.url });
  });
  afterAll(async () => {
    await t?.close();
    await relay?.close();
    await gw?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it('says connected with the policy and when it was signed, then unreachable since the cut, then connected again', async () => {
    const beforePublish = Date.now();
    expect((await gw.admin('PUT', '/admin/v1/policy', { version: 1, name: 'fleet', interception: { hosts: ['api.openai.com'] } })).status).toBe(200);
    t = await startSyncedAgent(home);
    const sync = syncOf(t);
    await connected(sync);
    expect(await policyHandled(sync, 1)).toBe('applied');

    const up = await statusOf(t);
    expect(up.gateway).toMatchObject({ state: 'connected', unreachableSince: null, policyVersion: 1 });
    const signedAt = Date.parse(up.gateway?.policySignedAt ?? '');
    expect(signedAt).toBeGreaterThanOrEqual(beforePublish - 1000);
    expect(signedAt).toBeLessThanOrEqual(Date.now());
    expect(companyLink(up.gateway)).toMatchObject({ tone: 'ok', text: expect.stringContaining('company policy version 1, published') });

    // The server goes away: connections are cut and new ones find nothing listening.
    relay.target = `127.0.0.1:${await closedPort()}`;
    const cutAt = Date.now();
    const retries = once(sync.connection, 'retry');
    relay.cutAll();
    await retries;
    const down = await statusOf(t);
    const since = down.gateway?.unreachableSince ?? '';
    expect(Date.parse(since)).toBeGreaterThanOrEqual(cutAt - 1000);
    expect(down.gateway).toMatchObject({ policyVersion: 1, policySignedAt: up.gateway?.policySignedAt });
    // Another failed attempt does not move the moment the link was lost.
    await once(sync.connection, 'retry');
    expect((await statusOf(t)).gateway?.unreachableSince).toBe(since);
    const words = companyLink((await statusOf(t)).gateway);
    expect(words.tone).toBe('warn');
    expect(words.text).toMatch(/^Cannot reach your company’s server \(127\.0\.0\.1:\d+\) since .+\. Protection goes on with the last company policy \(version 1, published .+\); activity is kept and sent later\.$/);
    expect(words.text).not.toMatch(/ECONNREFUSED|closed \(/);

    relay.target = new URL(gw.url).host;
    await connected(sync);
    expect((await statusOf(t)).gateway).toMatchObject({ state: 'connected', unreachableSince: null });
  });

  it('keeps the signing time of the kept policy across an offline restart, and says since when it is unreachable', async () => {
    const signedAt = (await statusOf(t as TestAgent)).gateway?.policySignedAt;
    await t?.close();
    t = null;
    relay.target = `127.0.0.1:${await closedPort()}`;
    t = await startSyncedAgent(home);
    const sync = syncOf(t);
    if (sync.connection.snapshot().unreachableSince === null) await once(sync.connection, 'retry');
    const status = await statusOf(t);
    expect(status.gateway).toMatchObject({ policyVersion: 1, policySignedAt: signedAt });
    expect(status.gateway?.unreachableSince).not.toBeNull();
    expect(companyLink(status.gateway).text).toContain('since');
  });
});
