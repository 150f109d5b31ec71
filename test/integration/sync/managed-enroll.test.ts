/**
 * The managed config's `gateway.url` + `gateway.enrollmentToken`: the agent enrolls itself at its
 * first start and connects; at the next start (the token now spent, the config unchanged) it uses
 * its own credential and does not enroll again. A token the gateway refuses leaves the agent running
 * on its local policy, saying why in status.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { connected, startSyncedAgent, syncOf } from './support.js';

describe('enrollment from the managed config', () => {
  let gw: TestGateway;
  const homes: string[] = [];

  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw?.close();
    for (const h of homes) await fs.rm(h, { recursive: true, force: true });
  });

  async function home(): Promise<string> {
    const h = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-managed-enroll-'));
    homes.push(h);
    return h;
  }

  it('enrolls at first start, then uses its own credential', async () => {
    const t = await gw.admin('POST', '/admin/v1/enrollment-tokens', { team: 'sales' });
    const config = { gateway: { url: gw.url, enrollmentToken: t.body.token as string } };
    const h = await home();
    let agent = await startSyncedAgent(h, { config });
    const deviceId = syncOf(agent).status().deviceId;
    await connected(syncOf(agent));
    await agent.stopAgent();
    const before = (await gw.admin('GET', '/admin/v1/devices')).body.devices.length as number;

    agent = await startSyncedAgent(h, { config });
    try {
      expect(syncOf(agent).status().deviceId).toBe(deviceId);
      await connected(syncOf(agent));
      expect((await gw.admin('GET', '/admin/v1/devices')).body.devices.length).toBe(before);
      expect(agent.agent.status().degraded.filter((d) => d.startsWith('gateway:'))).toEqual([]);
    } finally {
      await agent.close();
    }
  });

  it('a refused token: the agent runs on its local policy and says why', async () => {
    const agent = await startSyncedAgent(await home(), { config: { gateway: { url: gw.url, enrollmentToken: 'opt_not-a-real-token-0000000000' } } });
    try {
      expect(agent.agent.sync).toBeNull();
      expect(agent.agent.status().degraded.join('\n')).toContain(`gateway: not enrolled with ${gw.url}: the gateway refused the enrollment (HTTP 401 invalid_token)`);
    } finally {
      await agent.close();
    }
  });
});
