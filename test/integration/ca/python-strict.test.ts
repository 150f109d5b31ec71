import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { RootAuthority } from '../../../agent/ca/root-authority.js';
import { FleetAuthority } from '../../../agent/ca/fleet-authority.js';
import { LeafIssuer } from '../../../agent/ca/issuer.js';
import { fileKeys, run, tempDir } from './fixtures.js';
import { createOrgRoot } from './org-root.js';
import { startTerminator } from './terminator.js';

// Python's strict verification: create_default_context() plus VERIFY_X509_STRICT (the default from
// Python 3.13 on), trusting only our CA file, connecting by name to the terminator's port.
const CLIENT = `
import os, socket, ssl
ctx = ssl.create_default_context(cafile=os.environ["CAFILE"])
ctx.verify_flags |= ssl.VERIFY_X509_STRICT
host = os.environ["HOST"]
with socket.create_connection(("127.0.0.1", int(os.environ["PORT"]))) as raw:
    with ctx.wrap_socket(raw, server_hostname=host) as s:
        s.sendall(f"GET / HTTP/1.1\\r\\nHost: {host}\\r\\nConnection: close\\r\\n\\r\\n".encode())
        print(s.recv(4096).decode().split("\\r\\n\\r\\n", 1)[1])
`;

async function pythonGet(cafile: string, host: string, port: number): Promise<string> {
  const { stdout } = await run('python3', ['-c', CLIENT], { env: { ...process.env, CAFILE: cafile, HOST: host, PORT: String(port) } });
  return stdout.trim();
}

describe("Python's strict certificate verification", () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    tmp = await tempDir();
  });
  afterAll(async () => tmp?.cleanup());

  it('accepts a standalone leaf (root trusted)', async () => {
    const home = path.join(tmp.dir, 'standalone');
    const root = await RootAuthority.open({ home, keys: await fileKeys(home), constrainTo: ['api.openai.com'] });
    const server = await startTerminator(await LeafIssuer.create(root.ca));
    try {
      expect(await pythonGet(root.certPath, 'api.openai.com', server.port)).toBe('hello api.openai.com');
    } finally {
      await server.close();
    }
  });

  it('accepts a fleet chain (organisation root trusted, intermediate served)', async () => {
    const home = path.join(tmp.dir, 'fleet');
    const org = await createOrgRoot();
    const fleet = await FleetAuthority.open({ home, keys: await fileKeys(home), requireNameConstraints: true });
    const ca = await fleet.install(await org.signer()(await fleet.csr()));
    const orgFile = path.join(tmp.dir, 'org.pem');
    await fs.writeFile(orgFile, org.certPem);
    const server = await startTerminator(await LeafIssuer.create(ca));
    try {
      expect(await pythonGet(orgFile, 'api.openai.com', server.port)).toBe('hello api.openai.com');
    } finally {
      await server.close();
    }
  });

  it('refuses the leaf when it does not trust our CA', async () => {
    const home = path.join(tmp.dir, 'untrusted');
    const root = await RootAuthority.open({ home, keys: await fileKeys(home), constrainTo: ['api.openai.com'] });
    const other = await RootAuthority.open({ home: path.join(tmp.dir, 'other'), keys: await fileKeys(path.join(tmp.dir, 'other')), constrainTo: ['api.openai.com'] });
    const server = await startTerminator(await LeafIssuer.create(root.ca));
    try {
      await expect(pythonGet(other.certPath, 'api.openai.com', server.port)).rejects.toThrow(/CERTIFICATE_VERIFY_FAILED/);
    } finally {
      await server.close();
    }
  });
});
