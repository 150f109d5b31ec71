import { setImmediate as turn } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturedLogger, SimAgent, startTestGateway } from '../../support/gateway.js';
import { startTestPostgres, type TestPostgres } from '../../support/postgres.js';

// PostgreSQL: its disconnect bookkeeping takes real round trips, so it is still running when the
// gateway closes its store (the race the first test is about).
let pg: TestPostgres;
beforeAll(async () => {
  pg = await startTestPostgres();
}, 120_000);
afterAll(() => pg?.stop());

describe('gateway shutdown', () => {
  it('agents leaving as it shuts down: the disconnect bookkeeping logs no error about the closed store', async () => {
    const log = capturedLogger();
    const gw = await startTestGateway({ store: { kind: 'postgres', url: await pg.createDatabase() } }, { logger: log.logger });
    const agents = await Promise.all(Array.from({ length: 40 }, async (_, i) => SimAgent.connect(gw.url, await gw.enroll({ hostname: `laptop-${i}` }))));
    for (const a of agents) a.close();
    await Promise.all(agents.map((a) => a.closed));
    await gw.close();
    // The disconnect bookkeeping each close started has run its course (a few loop turns).
    for (let i = 0; i < 50; i++) await turn();
    expect(log.lines.filter((l) => l.includes('"level":50'))).toEqual([]);
  });

  it('agents connected: each is told the gateway is going away', async () => {
    const gw = await startTestGateway();
    const agents = await Promise.all(Array.from({ length: 5 }, async (_, i) => SimAgent.connect(gw.url, await gw.enroll({ hostname: `laptop-${i}` }))));
    await gw.close();
    expect((await Promise.all(agents.map((a) => a.closed))).map((c) => c.code)).toEqual([1001, 1001, 1001, 1001, 1001]);
  });
});
