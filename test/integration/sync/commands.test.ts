/**
 * Administrators' commands from a real gateway to a real agent: a revoked virtual key is refused at
 * once and stays revoked across an offline restart; the kill switch blocks all AI (CONNECT refused),
 * pauses interception (traffic passes untouched, status and the gateway's device list say paused)
 * and is lifted; a revoked device is told so, stops syncing, and does not reconnect after a restart.
 * Each command is answered with `command.result`.
 */
import { once } from 'node:events';
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { openAiClient } from '../../support/clients.js';
import type { TestAgent } from '../../support/agent.js';
import type { PolicyInput } from '../../../shared/schema/policy.js';
import { connected, enrolledHome, policyHandled, startSyncedAgent, syncOf } from './support.js';

const VK = 'ovk-fleet-0123456789';
const POLICY: PolicyInput = {
  version: 1,
  name: 'fleet',
  interception: { hosts: ['api.openai.com'] },
  virtualKeys: [{ id: 'vk-fleet', key: VK, owner: 'org', providerKeys: { openai: 'keychain:openai-fleet' } }],
};

describe('commands from the gateway', () => {
  let gw: TestGateway;
  let home: string;
  let t: TestAgent;

  beforeAll(async () => {
    gw = await startTestGateway();
    await gw.admin('PUT', '/admin/v1/policy', POLICY);
    home = await enrolledHome(gw);
    t = await startSyncedAgent(home);
    await t.agent.ca.keychain.set('secret:openai-fleet', 'sk-real-fleet');
    await connected(syncOf(t));
    await policyHandled(syncOf(t), 1);
  });
  afterAll(async () => {
    await t?.close();
    await gw?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  async function send(agent: TestAgent = t): Promise<{ status: number; auth: string | undefined } | { error: string }> {
    const sdk = openAiClient({ proxyUrl: agent.proxyUrl, ca: `${agent.caPem}\n${agent.upstreamCa.caPem}`, maxRetries: 0, apiKey: VK });
    try {
      await sdk.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
      return { status: 200, auth: agent.provider.requests.at(-1)?.headers.authorization as string | undefined };
    } catch (err) {
      const status = (err as { status?: number }).status;
      return status === undefined ? { error: (err as Error).message } : { status, auth: undefined };
    } finally {
      await sdk.close();
    }
  }

  async function command(scope: object, action: object): Promise<void> {
    const sync = syncOf(t);
    const result = once(sync, 'command');
    const res = await gw.admin('POST', '/admin/v1/commands', { scope, action });
    expect(res.status).toBeLessThan(300);
    const [r] = (await result) as [{ ok: boolean }];
    expect(r.ok).toBe(true);
  }

  it('kill switch: block-ai refuses every AI connection, pause-interception lets it pass untouched, off lifts it', async () => {
    const me = { kind: 'device', deviceId: syncOf(t).status().deviceId };
    expect(await send()).toEqual({ status: 200, auth: 'Bearer sk-real-fleet' });

    await command({ kind: 'everyone' }, { kind: 'kill-switch', mode: 'block-ai' });
    expect(await send()).toHaveProperty('error');
    expect(t.agent.status().degraded.join('\n')).toContain('blocked all AI traffic');

    await command(me, { kind: 'kill-switch', mode: 'pause-interception' });
    // Tunnelled: the provider sees the client's own (virtual) key, nothing is swapped or read.
    expect(await send()).toEqual({ status: 200, auth: `Bearer ${VK}` });
    expect(t.agent.status().state).toBe('paused');
    let paused: unknown = null;
    for (let i = 0; i < 1000 && paused !== true; i++) {
      const devices = await gw.admin('GET', '/admin/v1/devices');
      paused = (devices.body.devices as Array<{ id: string; paused: boolean | null }>).find((d) => d.id === me.deviceId)?.paused;
    }
    expect(paused).toBe(true);

    await command({ kind: 'everyone' }, { kind: 'kill-switch', mode: 'off' });
    expect(await send()).toEqual({ status: 200, auth: 'Bearer sk-real-fleet' });
    expect(t.agent.status().state).not.toBe('paused');
  });

  it('a revoked virtual key is refused at once, and still after a restart without the gateway', async () => {
    await command({ kind: 'everyone' }, { kind: 'revoke-virtual-key', virtualKeyId: 'vk-fleet' });
    expect(await send()).toMatchObject({ status: 401 });

    await t.stopAgent();
    await gw.gateway.hub.close();
    t = await startSyncedAgent(home);
    await t.agent.ca.keychain.set('secret:openai-fleet', 'sk-real-fleet');
    expect(await send()).toMatchObject({ status: 401 });
  });
});

describe('a revoked device', () => {
  let gw: TestGateway;
  let home: string;
  let t: TestAgent;

  beforeAll(async () => {
    gw = await startTestGateway();
    home = await enrolledHome(gw);
    t = await startSyncedAgent(home);
  });
  afterAll(async () => {
    await t?.close();
    await gw?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it('is told so, stops syncing, says so in status, and does not reconnect after a restart', async () => {
    const sync = syncOf(t);
    await connected(sync);
    const revoked = once(sync.connection, 'revoked');
    const res = await gw.admin('POST', '/admin/v1/commands', { scope: { kind: 'device', deviceId: sync.status().deviceId }, action: { kind: 'revoke-device' } });
    expect(res.status).toBeLessThan(300);
    await revoked;
    expect(sync.connection.state).toBe('revoked');
    expect(t.agent.status().degraded.join('\n')).toContain('this device was revoked by an administrator');

    // After a restart it does not even try (the gateway would refuse it with 403 anyway).
    await t.stopAgent();
    t = await startSyncedAgent(home);
    const status = t.agent.status();
    expect(t.agent.sync === null || t.agent.sync.connection.state === 'revoked').toBe(true);
    expect(status.degraded.join('\n')).toContain('revoked by an administrator');
  });
});
