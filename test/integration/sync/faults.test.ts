/**
 * Faults between a real agent and a real gateway (issue 12.7), through a TCP relay the test controls:
 * a gateway restart during a policy push (the agent ends on the newest version), a gateway one minor
 * version ahead (what it adds is ignored), a malformed and an oversized frame from the "gateway" (the agent closes with a clear code, keeps serving, reconnects),
 * and a device revoked while its agent was off (refused with HTTP 403 at the next start; the agent
 * says so and stops trying).
 */
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { chatThrough } from '../../support/clients.js';
import type { TestAgent } from '../../support/agent.js';
import { CLOSE_CODES, PROTOCOL_VERSION } from '../../../shared/schema/protocol.js';
import { connected, enrolledHome, policyHandled, startRelay, startSyncedAgent, syncOf, type Relay } from './support.js';

const policyV = (n: number): object => ({ version: 1, name: `fleet v${n}`, interception: { hosts: ['api.openai.com'] } });

/** A server-to-client WebSocket text frame (unmasked), small payloads only. */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
}

describe('faults between agent and gateway', () => {
  let gwHome: string;
  let gw: TestGateway;
  let relay: Relay;
  let home: string;
  let t: TestAgent;

  beforeAll(async () => {
    gwHome = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-gw-faults-'));
    gw = await startTestGateway({ home: gwHome });
    relay = await startRelay(gw.url);
    home = await enrolledHome(gw, { url: relay.url });
    await gw.admin('PUT', '/admin/v1/policy', policyV(1));
    t = await startSyncedAgent(home);
    await connected(syncOf(t));
    await policyHandled(syncOf(t), 1);
  });
  afterAll(async () => {
    await t?.close();
    await relay?.close();
    await gw?.close();
    for (const dir of [gwHome, home]) if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('a gateway restart during a policy push: the agent ends on the newest version', async () => {
    const sync = syncOf(t);
    const put = await gw.admin('PUT', '/admin/v1/policy', policyV(2));
    expect(put.body.version).toBe(2);
    // Down at once: the push may or may not have reached the agent.
    await gw.close();
    gw = await startTestGateway({ home: gwHome });
    relay.target = new URL(gw.url).host;
    expect(await policyHandled(sync, 2)).toBe('applied');
    await connected(sync);
    expect(t.agent.policy()).toMatchObject({ source: 'gateway (signed v2)', policy: { name: 'fleet v2' } });
  });

  it('a malformed frame: the agent closes with 4000 naming it, keeps serving, and reconnects', async () => {
    const sync = syncOf(t);
    await connected(sync);
    const closed = once(sync.connection, 'disconnected');
    relay.injectToAgent(textFrame('{"v":"1.0","type":"policy","version":"two"}'));
    const [info] = (await closed) as [{ code: number; reason: string }];
    expect(info.code).toBe(CLOSE_CODES.badMessage);
    expect(info.reason).toContain('policy: $.version');
    expect((await chatThrough({ proxyUrl: t.proxyUrl, ca: t.caPem }, 'still serving')).status).toBe(200);
    await connected(sync);
  });

  it('a gateway one minor version ahead: an unknown message type and extra fields are ignored, the link stays up', async () => {
    const sync = syncOf(t);
    await connected(sync);
    let dropped = false;
    sync.connection.once('disconnected', () => (dropped = true));
    const newer = `${PROTOCOL_VERSION.major}.${PROTOCOL_VERSION.minor + 1}`;
    relay.injectToAgent(textFrame(`{"v":"${newer}","type":"fleet.news","text":"hi"}`));
    relay.injectToAgent(textFrame(`{"v":"${newer}","type":"heartbeat","time":"now","load":0.5}`));
    // A real push after them is handled on the same connection.
    const handled = policyHandled(sync, 3);
    await gw.admin('PUT', '/admin/v1/policy', policyV(3));
    expect(await handled).toBe('applied');
    expect(dropped).toBe(false);
  });

  it('an oversized frame: closed with 1009, and the agent reconnects', async () => {
    const sync = syncOf(t);
    await connected(sync);
    const closed = once(sync.connection, 'disconnected');
    // A header announcing 9 MiB (over MAX_MESSAGE_BYTES): refused before any payload arrives.
    const header = Buffer.alloc(10);
    header[0] = 0x81;
    header[1] = 127;
    header.writeBigUInt64BE(9n * 1024n * 1024n, 2);
    relay.injectToAgent(header);
    const [info] = (await closed) as [{ code: number }];
    expect(info.code).toBe(CLOSE_CODES.tooLarge);
    await connected(sync);
    expect(sync.status().state).toBe('connected');
  });

  it('a device revoked while its agent was off is refused with 403 at the next start, and the agent says so', async () => {
    const deviceId = syncOf(t).status().deviceId;
    await t.stopAgent();
    // Revoked while offline: the command cannot reach the device, the gateway refuses the connection.
    const res = await gw.admin('POST', '/admin/v1/commands', { scope: { kind: 'device', deviceId }, action: { kind: 'revoke-device' } });
    expect(res.status).toBeLessThan(300);
    t = await startSyncedAgent(home);
    const sync = syncOf(t);
    if (sync.connection.state !== 'revoked') await once(sync.connection, 'revoked');
    expect(sync.status().lastError).toContain('revoked');
    expect(t.agent.status().degraded.join('\n')).toContain('this device was revoked by an administrator');
    // Still enforcing the last policy, locally.
    expect(t.agent.policy().policy.name).toBe('fleet v3');
  });
});
