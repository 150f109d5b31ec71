/**
 * The test CA's certificates pass strict verifiers: OpenSSL's -x509_strict and Python's ssl with
 * VERIFY_X509_STRICT (the default from Python 3.13), in a real handshake with the fake provider.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';

const run = promisify(execFile);

/** Python: one strict TLS handshake; prints "ok" or the error class and reason. */
const PYTHON_HANDSHAKE = `
import socket, ssl, sys
cafile, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=cafile)
ctx.verify_flags |= ssl.VERIFY_X509_STRICT
try:
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with ctx.wrap_socket(raw, server_hostname=name) as tls:
            print("ok", tls.version())
except ssl.SSLError as error:
    print(type(error).__name__, error.reason)
`;

describe('test CA', () => {
  let ca: TestCa;
  let provider: FakeProvider;
  let dir: string;

  beforeAll(async () => {
    ca = await createTestCa();
    provider = await startFakeProvider({ ca });
    dir = await mkdtemp(join(tmpdir(), 'outpost-ca-test-'));
  });
  afterAll(async () => {
    await provider?.close();
    await ca?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('makes a root with critical basicConstraints and keyUsage, and SKI/AKI', () => {
    const root = new X509Certificate(ca.caPem);
    expect(root.ca).toBe(true);
    expect(root.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(root.verify(root.publicKey)).toBe(true);
    expect(root.checkIssued(root)).toBe(true);
  });

  it('issues leaves that OpenSSL verifies strictly, with the SANs asked for', async () => {
    const leaf = ca.issue(['api.openai.com', '127.0.0.1']);
    const cert = new X509Certificate(leaf.cert);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(new X509Certificate(ca.caPem))).toBe(true);
    expect(cert.checkHost('api.openai.com')).toBe('api.openai.com');
    expect(cert.checkHost('api.anthropic.com')).toBeUndefined();
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    const leafFile = join(dir, 'leaf.pem');
    await writeFile(leafFile, leaf.cert);
    const { stdout } = await run('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', ca.caFile, leafFile]);
    expect(stdout.trim()).toBe(`${leafFile}: OK`);
    const text = (await run('openssl', ['x509', '-in', ca.caFile, '-noout', '-text'])).stdout;
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(text).toContain('Subject Key Identifier');
    expect(text).toContain('Authority Key Identifier');
  });

  it('passes a strict Python handshake and fails one for a name outside the SAN', async () => {
    const script = join(dir, 'handshake.py');
    await writeFile(script, PYTHON_HANDSHAKE);
    const good = await run('python3', [script, ca.caFile, String(provider.port), 'api.anthropic.com']);
    expect(good.stdout).toMatch(/^ok TLSv1\.3/);
    const bad = await run('python3', [script, ca.caFile, String(provider.port), 'bank.example.com']);
    expect(bad.stdout).toMatch(/^SSLCertVerificationError CERTIFICATE_VERIFY_FAILED/);
  });
});
