import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { periodStart } from '../../../shared/core/periods.js';
import { PROTOCOL_V } from '../../../shared/schema/protocol.js';
import { SimAgent, startTestGateway, type TestGateway } from '../../support/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

const month = (): number => periodStart('1M', Date.now());

describe('fleet budgets', () => {
  it('sums every device\'s spend per window and tells each device the total and its own part', async () => {
    const agents = await Promise.all([gw.enroll(), gw.enroll(), gw.enroll()].map(async (d) => SimAgent.connect(gw.url, await d)));
    const [a, b, c] = agents as [SimAgent, SimAgent, SimAgent];
    const window = { id: 'vk:vk-eng', period: '1M' as const, windowStart: month() };
    a.send({ v: PROTOCOL_V, type: 'usage.report', windows: [{ ...window, spentUsd: 1.5 }] });
    b.send({ v: PROTOCOL_V, type: 'usage.report', windows: [{ ...window, spentUsd: 2 }] });
    const total = (m: { windows: Array<{ id: string; fleetSpentUsd: number }> }): number => m.windows.find((w) => w.id === window.id)?.fleetSpentUsd ?? 0;
    const [sa, sb, sc] = await Promise.all(agents.map((x) => x.until('budget.state', (m) => total(m) === 3.5)));
    expect(sa!.windows[0]).toMatchObject({ ...window, fleetSpentUsd: 3.5, deviceSpentUsd: 1.5 });
    expect(sb!.windows[0]).toMatchObject({ deviceSpentUsd: 2 });
    // c never spent: it still learns the fleet's spend, which is what keeps a shared budget.
    expect(sc!.windows[0]).toMatchObject({ fleetSpentUsd: 3.5, deviceSpentUsd: 0 });

    // Reports are cumulative: a repeated or older value changes nothing; a newer one moves the total.
    a.send({ v: PROTOCOL_V, type: 'usage.report', windows: [{ ...window, spentUsd: 1 }] });
    a.send({ v: PROTOCOL_V, type: 'usage.report', windows: [{ ...window, spentUsd: 2.5 }] });
    expect(total(await c.until('budget.state', (m) => total(m) !== 3.5))).toBe(4.5);

    // A device that connects later gets the current windows at once; a past window is not sent.
    b.send({ v: PROTOCOL_V, type: 'usage.report', windows: [{ id: 'old', period: '1d', windowStart: periodStart('1d', Date.now()) - 86_400_000, spentUsd: 9 }] });
    const late = await SimAgent.connect(gw.url, await gw.enroll());
    const first = await late.next('budget.state');
    expect(first.windows.map((w) => [w.id, w.fleetSpentUsd])).toEqual([[window.id, 4.5]]);
    for (const x of [...agents, late]) x.close();
  });
});
