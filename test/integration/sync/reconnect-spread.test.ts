/**
 * Many agents reconnecting at once after an outage (issue 12.7): 200 real sync connections (the
 * agent's own `SyncConnection`, each with its own enrolled credential) to a real gateway, which
 * goes away and comes back on another port behind the same relay. Each connection draws its wait
 * from full jitter, so the fleet comes back spread over the whole window rather than in one wave,
 * and every connection is back after the gateway returns.
 */
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OK_STATUS, startTestGateway, type TestGateway } from '../../support/gateway.js';
import { SyncConnection } from '../../../agent/sync/sync-connection.js';
import { gatewayAddress } from '../../../agent/sync/gateway-address.js';
import { gatewayTlsOptions } from '../../../agent/sync/gateway-tls.js';
import { startRelay, type Relay } from './support.js';

const AGENTS = 200;
const BACKOFF = { baseMs: 400, capMs: 3200 };
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('a fleet reconnecting after an outage', () => {
  let gwHome: string;
  let gw: TestGateway;
  let relay: Relay;
  const connections: SyncConnection[] = [];

  beforeAll(async () => {
    gwHome = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-gw-herd-'));
    gw = await startTestGateway({ home: gwHome });
    relay = await startRelay(gw.url);
    const tls = await gatewayTlsOptions({ caFile: null, pinSha256: null });
    for (let i = 0; i < AGENTS; i++) {
      const device = await gw.enroll({ hostname: `laptop-${i}` });
      connections.push(
        new SyncConnection({
          address: gatewayAddress(relay.url),
          tls,
          deviceId: device.deviceId,
          credential: device.credential,
          hello: () => ({ agentVersion: '0.1.0', policyVersion: null, lastAckedSeq: 0, status: OK_STATUS }),
          handlers: {},
          logger: silent,
          backoff: BACKOFF,
        }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.stop()));
    await relay?.close();
    await gw?.close();
    if (gwHome) await fs.rm(gwHome, { recursive: true, force: true });
  });

  it('comes back spread over the backoff window, every connection back', async () => {
    await Promise.all(connections.map((c) => (c.start(), once(c, 'connected'))));

    const firstRetries = connections.map((c) => once(c, 'retry'));
    await gw.close();
    const firstDelays = (await Promise.all(firstRetries)).map(([delay]) => delay as number);

    // Full jitter over the first window: spread across it, not one instant.
    expect(Math.max(...firstDelays)).toBeLessThan(BACKOFF.baseMs);
    expect(Math.max(...firstDelays) - Math.min(...firstDelays)).toBeGreaterThan(BACKOFF.baseMs / 2);
    const buckets = new Map<number, number>();
    for (const d of firstDelays) buckets.set(Math.floor(d / (BACKOFF.baseMs / 8)), (buckets.get(Math.floor(d / (BACKOFF.baseMs / 8))) ?? 0) + 1);
    expect(buckets.size).toBeGreaterThanOrEqual(6);
    expect(Math.max(...buckets.values())).toBeLessThan(AGENTS / 3);

    gw = await startTestGateway({ home: gwHome });
    relay.target = new URL(gw.url).host;
    await Promise.all(connections.map((c) => (c.state === 'connected' ? undefined : once(c, 'connected'))));
    expect(connections.every((c) => c.state === 'connected')).toBe(true);
    expect(gw.gateway.hub.connected).toBe(AGENTS);
  });
});
