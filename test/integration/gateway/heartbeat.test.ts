import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PROTOCOL_V } from '../../../shared/schema/protocol.js';
import { OK_STATUS, SimAgent, startTestGateway, type TestGateway } from '../../support/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({}, { heartbeatMs: 100 });
});
afterAll(() => gw.close());

describe('heartbeats', () => {
  it('a live agent gets heartbeats and stays connected', async () => {
    const agent = await SimAgent.connect(gw.url, await gw.enroll());
    expect(agent.received.find((m) => m.type === 'welcome')).toMatchObject({ heartbeatMs: 100 });
    await agent.next('heartbeat');
    await agent.next('heartbeat');
    await agent.next('heartbeat');
    expect(agent.ws.readyState).toBe(WebSocket.OPEN);
    agent.close();
  });

  it('an agent that stops answering pings is dropped, and shown offline', async () => {
    const device = await gw.enroll();
    // A peer whose network died: it never answers the gateway's pings.
    const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/v1/agents/connect`, { headers: { authorization: `Bearer ${device.credential}` }, autoPong: false });
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ v: PROTOCOL_V, type: 'hello', deviceId: device.deviceId, agentVersion: '0.1.0', policyVersion: null, lastAckedSeq: 0, status: OK_STATUS }));
    const code = await new Promise<number>((resolve) => ws.once('close', (c: number) => resolve(c)));
    expect(code).toBe(1006);
    await expect.poll(async () => (await gw.admin('GET', '/admin/v1/devices')).body.devices.find((d: { id: string }) => d.id === device.deviceId).online).toBe(false);
  });
});
