/**
 * `outpost enroll` against a real gateway (real HTTP, real SQLite): the device id and credential go
 * to the keychain (the real GNOME keyring under `npm test`), the gateway's policy-signing key is
 * pinned in the home, a spent token is refused with the gateway's reason and no token in the output,
 * plain http:// off loopback never leaves the machine, and over https the certificate is verified
 * (unknown CA refused, `--ca-file` accepted, a wrong `--pin` refused, the right one accepted).
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { runOutpost } from '../../support/cli.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';
import { openKeychain } from '../../../agent/system/keychain.js';
import { CREDENTIAL_ENTRY, EnrollmentStore } from '../../../agent/sync/enrollment.js';
import { spkiPinOf } from '../../../agent/sync/gateway-tls.js';

const inKeyring = process.env.OUTPOST_KEYRING === 'secret-service';

/** A TLS front for the gateway (the gateway itself listens in plain HTTP on loopback). */
async function tlsFront(target: string, leaf: { cert: string; key: string }): Promise<{ url: string; close(): Promise<void> }> {
  const { port } = new URL(target);
  const server = tls.createServer({ cert: leaf.cert, key: leaf.key }, (socket) => {
    const upstream = net.connect(Number(port), '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return { url: `https://localhost:${address.port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('outpost enroll', () => {
  let gw: TestGateway;
  let dir: string;
  let ca: TestCa;
  let front: Awaited<ReturnType<typeof tlsFront>>;
  let leafPin: string;

  beforeAll(async () => {
    gw = await startTestGateway();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-enroll-'));
    ca = await createTestCa();
    const leaf = ca.issue(['localhost']);
    leafPin = spkiPinOf(Buffer.from(new crypto.X509Certificate(leaf.cert).raw));
    front = await tlsFront(gw.url, leaf);
  });
  afterAll(async () => {
    await front?.close();
    await gw?.close();
    await ca?.dispose();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  async function newToken(): Promise<string> {
    const t = await gw.admin('POST', '/admin/v1/enrollment-tokens', { team: 'platform' });
    expect(t.status).toBe(201);
    return t.body.token as string;
  }

  async function agentConfig(name: string, keyStore: 'auto' | 'file' = 'file'): Promise<{ file: string; home: string }> {
    const folder = path.join(dir, name);
    await fs.mkdir(folder, { recursive: true });
    const file = path.join(folder, 'agent.json');
    await fs.writeFile(file, JSON.stringify({ home: 'home', ca: { keyStore }, log: { level: 'warn' } }));
    return { file, home: path.join(folder, 'home') };
  }

  it('enrolls: device id and credential in the keychain, the signing key pinned, the device listed on the gateway', async () => {
    const { file, home } = await agentConfig('keychain', 'auto');
    const token = await newToken();
    const out = await runOutpost(['enroll', '--gateway', gw.url, '--token', '-', '--config', file, '--json'], {}, `${token}\n`);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const answer = JSON.parse(out.stdout) as { deviceId: string; team: string };
    expect(answer).toMatchObject({ ok: true, gateway: gw.url, team: 'platform' });

    const keychain = await openKeychain({ home, mode: 'auto' });
    if (inKeyring) expect(keychain.backend).toBe('keychain');
    const entry = JSON.parse((await keychain.get(CREDENTIAL_ENTRY)) ?? 'null') as { deviceId: string; credential: string };
    expect(entry.deviceId).toBe(answer.deviceId);
    const enrollment = await new EnrollmentStore(home, keychain).load();
    expect(enrollment?.gatewayPublicKeyPem).toBe(gw.gateway.signingPublicKeyPem);
    expect(enrollment?.gatewayKey.asymmetricKeyType).toBe('ed25519');
    // The credential is in no file of the home (with a real keychain) and not on the console.
    const onDisk = await fs.readFile(path.join(home, 'gateway', 'enrollment.json'), 'utf8');
    expect(onDisk).not.toContain(entry.credential);
    expect(out.stdout).not.toContain(entry.credential);
    expect(out.stdout).not.toContain(token);
    expect((await fs.stat(path.join(home, 'gateway', 'enrollment.json'))).mode & 0o777).toBe(0o600);

    const devices = await gw.admin('GET', '/admin/v1/devices');
    expect(JSON.stringify(devices.body)).toContain(answer.deviceId);

    // Enrolling again is refused without --replace (it would make a new device).
    const again = await runOutpost(['enroll', '--gateway', gw.url, '--token', await newToken(), '--config', file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`already enrolled as ${answer.deviceId}`);
    await keychain.delete(CREDENTIAL_ENTRY);
  });

  it('a spent token is refused with the gateway\'s reason, and the token is not echoed', async () => {
    const { file } = await agentConfig('spent');
    const token = await newToken();
    await gw.enroll(); // another device; then spend `token` once
    const first = await runOutpost(['enroll', '--gateway', gw.url, '--token', token, '--config', file, '--replace']);
    expect(first.code).toBe(0);
    const second = await runOutpost(['enroll', '--gateway', gw.url, '--token', token, '--config', file, '--replace']);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('refused the enrollment (HTTP 401 invalid_token)');
    expect(second.stderr + second.stdout).not.toContain(token);
  });

  it('refuses plain http:// off loopback before anything is sent', async () => {
    const { file } = await agentConfig('plain');
    const out = await runOutpost(['enroll', '--gateway', 'http://gateway.example.com', '--token', 'x'.repeat(32), '--config', file]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('refusing plain http:// to gateway.example.com');
  });

  it('verifies the gateway\'s TLS certificate, and its key pin when one is given', async () => {
    const { file, home } = await agentConfig('tls');
    const token = await newToken();
    const unknown = await runOutpost(['enroll', '--gateway', front.url, '--token', token, '--config', file]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('TLS certificate');

    const wrongPin = crypto.createHash('sha256').update('another key').digest('base64');
    const pinned = await runOutpost(['enroll', '--gateway', front.url, '--token', token, '--config', file, '--ca-file', ca.caFile, '--pin', `sha256/${wrongPin}`]);
    expect(pinned.code).toBe(1);
    expect(pinned.stderr).toContain(`does not match the pinned key (sha256/${wrongPin})`);

    // Neither refusal spent the token: the TLS check happens before the request.
    const ok = await runOutpost(['enroll', '--gateway', front.url, '--token', token, '--config', file, '--ca-file', ca.caFile, '--pin', `sha256/${leafPin}`, '--json']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const kept = JSON.parse(await fs.readFile(path.join(home, 'gateway', 'enrollment.json'), 'utf8')) as { gatewayUrl: string; tls: unknown };
    expect(kept).toMatchObject({ gatewayUrl: front.url, tls: { caFile: ca.caFile, spkiSha256: leafPin } });
  });
});
