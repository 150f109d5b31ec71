/**
 * A gRPC tool under `outpost run` (issue 18.3): a Node program using `@grpc/grpc-js` with no proxy
 * or CA settings of its own (default credentials) reaches a gRPC service on a governed host
 * through the agent, because `outpost run` sets `https_proxy` (grpc-js, like gRPC's C core, follows
 * it) and the CA bundle (grpc-js trusts Node's roots plus `NODE_EXTRA_CA_CERTS`; gRPC's C core,
 * under Python's grpcio, reads only `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`, which `outpost env` also
 * sets: unit-tested, no grpcio here). The call is recorded by the agent.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../../support/agent.js';
import { runOutpost } from '../../support/cli.js';
import { startFakeGrpc, type FakeGrpc } from '../../support/fake-grpc.js';
import { startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import { REPO_ROOT } from '../../support/repo.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';

const HOST = 'grpc.ai.test';

/** Proxy and CA variables removed: only what `outpost run` sets may route or trust. */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(https?_proxy|grpc_proxy|no_proxy|no_grpc_proxy|all_proxy|node_extra_ca_certs|ssl_cert_file|grpc_default_ssl_roots_file_path|node_options)$/i.test(k)) delete env[k];
  }
  return { ...env, ...extra };
}

/** The client program: grpc-js from the repository, default credentials, one unary call, the result as JSON. */
const CLIENT = `
import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(path.join(REPO_ROOT, 'package.json'))});
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');
const pkg = grpc.loadPackageDefinition(loader.loadSync(${JSON.stringify(path.join(REPO_ROOT, 'test/support/fake/echo.proto'))}, { keepCase: true }));
const client = new pkg.outpost.test.Echo('${HOST}:443', grpc.credentials.createSsl());
client.Say({ text: 'from outpost run' }, (err, reply) => {
  console.log(JSON.stringify(err ? { code: err.code, details: err.details } : { text: reply.text }));
  client.close();
});
`;

describe('a gRPC client under outpost run', () => {
  let upstreamCa: TestCa;
  let provider: FakeProvider;
  let service: FakeGrpc;
  let t: TestAgent;
  let dir: string;
  beforeAll(async () => {
    upstreamCa = await createTestCa('gRPC run upstream CA');
    provider = await startFakeProvider({ ca: upstreamCa });
    service = await startFakeGrpc(upstreamCa, [HOST]);
    t = await startTestAgent({
      provider: { provider, ca: upstreamCa },
      policy: { version: 1, name: 'grpc', interception: { hosts: ['api.openai.com', HOST] } },
      config: { upstream: { resolve: { ...provider.resolveMap(), [HOST]: service.address }, caFile: upstreamCa.caFile } },
    });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-grpc-run-'));
    await fs.writeFile(path.join(dir, 'client.mjs'), CLIENT);
  });
  afterAll(async () => {
    await t?.close();
    await service?.close();
    await provider?.close();
    await upstreamCa?.dispose();
    if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
  });

  it('reaches the service through the agent, which records the call', async () => {
    const run = await runOutpost(['run', '--', process.execPath, path.join(dir, 'client.mjs')], cleanEnv({ OUTPOST_HOME: t.home }));
    expect(run.stderr).not.toMatch(/error/i);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({ text: 'echo: from outpost run' });
    expect(service.calls).toEqual([{ method: 'Say', text: 'from outpost run' }]);
    t.agent.store.audit.flushNow();
    const records = t.agent.store.audit.recordsAfter(0).filter((r) => r.host === HOST);
    expect(records.map((r) => r.endpoint)).toEqual(['outpost.test.Echo/Say']);
    // Status counts the connection that chose HTTP/2 (gRPC speaks nothing else).
    expect(t.agent.status().engine.http2Sessions).toBe(1);
  });

  it('outpost status says how many intercepted connections chose HTTP/2', async () => {
    const status = await runOutpost(['status'], cleanEnv({ OUTPOST_HOME: t.home }));
    expect(status.stdout).toMatch(/\d+ intercepted \(1 over HTTP\/2\)/);
  });
});
