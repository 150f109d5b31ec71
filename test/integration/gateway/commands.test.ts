import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_CODES, PROTOCOL_V } from '../../../shared/schema/protocol.js';
import { SimAgent, startTestGateway, type TestGateway } from '../../support/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

const deviceRow = async (id: string): Promise<any> => (await gw.admin('GET', '/admin/v1/devices')).body.devices.find((d: { id: string }) => d.id === id);

describe('admin commands', () => {
  it('revokes a virtual key on every device, now and for a device that connects later', async () => {
    const a = await SimAgent.connect(gw.url, await gw.enroll());
    const sent = await gw.admin('POST', '/admin/v1/commands', { scope: { kind: 'everyone' }, action: { kind: 'revoke-virtual-key', virtualKeyId: 'vk-eng' } });
    expect(sent.status).toBe(202);
    const got = await a.next('command');
    expect(got).toMatchObject({ id: sent.body.id, action: { kind: 'revoke-virtual-key', virtualKeyId: 'vk-eng' }, scope: { kind: 'everyone' } });
    a.send({ v: PROTOCOL_V, type: 'command.result', id: got.id, ok: true, error: null });
    const later = await SimAgent.connect(gw.url, await gw.enroll());
    expect((await later.next('command')).id).toBe(sent.body.id);
    await expect.poll(async () => (await gw.admin('GET', `/admin/v1/commands/${sent.body.id}`)).body.results).toEqual([expect.objectContaining({ deviceId: a.deviceId, ok: true })]);
    a.close();
    later.close();
  });

  it('a kill switch for a team reaches only that team, and the newest per scope stays in force', async () => {
    const red = await SimAgent.connect(gw.url, await gw.enroll({ team: 'red' }));
    const blue = await SimAgent.connect(gw.url, await gw.enroll({ team: 'blue' }));
    await gw.admin('POST', '/admin/v1/commands', { scope: { kind: 'team', team: 'red' }, action: { kind: 'kill-switch', mode: 'block-ai' } });
    const paused = await gw.admin('POST', '/admin/v1/commands', { scope: { kind: 'team', team: 'red' }, action: { kind: 'kill-switch', mode: 'pause-interception' } });
    expect((await red.until('command', (m) => m.id === paused.body.id)).action).toEqual({ kind: 'kill-switch', mode: 'pause-interception' });
    // blue heard nothing of red's switch; a probe command to blue arrives as its first kill-switch command.
    const probe = await gw.admin('POST', '/admin/v1/commands', { scope: { kind: 'team', team: 'blue' }, action: { kind: 'kill-switch', mode: 'off' } });
    expect((await blue.until('command', (m) => m.action.kind === 'kill-switch')).id).toBe(probe.body.id);
    const redLater = await SimAgent.connect(gw.url, await gw.enroll({ team: 'red' }));
    const inForce = await redLater.until('command', (m) => m.action.kind === 'kill-switch');
    expect(inForce.id).toBe(paused.body.id);
    for (const a of [red, blue, redLater]) a.close();
  });

  it('revokes a device: its connection closes with 4003, it cannot connect again, the list says so', async () => {
    const device = await gw.enroll();
    const agent = await SimAgent.connect(gw.url, device);
    const sent = await gw.admin('POST', '/admin/v1/commands', { scope: { kind: 'device', deviceId: device.deviceId }, action: { kind: 'revoke-device' } });
    expect((await agent.until('command', (m) => m.id === sent.body.id)).action.kind).toBe('revoke-device');
    expect(await agent.closed).toEqual({ code: CLOSE_CODES.deviceRevoked, reason: 'this device was revoked by an administrator' });
    await expect(SimAgent.open(gw.url, device)).rejects.toMatchObject({ status: 403, body: expect.stringContaining('device_revoked') });
    expect(await deviceRow(device.deviceId)).toMatchObject({ revoked: true, online: false });
    const trail = await gw.admin('GET', '/admin/v1/admin-audit');
    expect(trail.body.events).toContainEqual(expect.objectContaining({ action: 'command.revoke-device', detail: expect.objectContaining({ id: sent.body.id }) }));
  });

  it('refuses a command naming an unknown device or a wrong scope, naming the field', async () => {
    const unknown = await gw.admin('POST', '/admin/v1/commands', { scope: { kind: 'device', deviceId: 'dev-00000000-nope' }, action: { kind: 'revoke-device' } });
    expect(unknown.status).toBe(404);
    const wrong = await gw.admin('POST', '/admin/v1/commands', { scope: { kind: 'everyone' }, action: { kind: 'revoke-device' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.problems[0].path).toBe('$.scope.kind');
    const bad = await gw.admin('POST', '/admin/v1/commands', { scope: { kind: 'everyone' }, action: { kind: 'kill-switch', mode: 'explode' } });
    expect(bad.body.error.problems[0].path).toBe('$.action.mode');
  });
});
