import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../support/test-ca.js';
import { startTestAgent, type TestAgent } from '../support/agent.js';

const run = promisify(execFile);

describe('a client that pins certificates, through the whole agent', () => {
  let t: TestAgent;
  let stranger: TestCa;
  beforeAll(async () => {
    t = await startTestAgent({ policy: { version: 1, name: 'pinning', interception: { hosts: ['api.openai.com'] } } });
    stranger = await createTestCa('A pinned app trusts only this');
  });
  afterAll(async () => {
    await t?.close();
    await stranger?.dispose();
  });

  it('is tunnelled after repeated aborts, reported in status and audit, and remembered in the store', async () => {
    const curl = (): Promise<number> =>
      run('curl', ['-sS', '-o', '/dev/null', '--max-time', '10', '--proxy', t.proxyUrl, '--cacert', stranger.caFile, 'https://api.openai.com/v1/models']).then(
        () => 0,
        (err: { code: number }) => err.code,
      );
    for (let i = 0; i < 3; i++) expect(await curl()).toBe(60);
    await expect.poll(() => t.agent.status().engine.pinnedHosts, { timeout: 5000 }).toEqual(['api.openai.com']);
    t.agent.store.audit.flushNow();
    const connects = t.agent.store.audit.recordsAfter(0).filter((r) => r.kind === 'connect');
    expect(connects).toEqual([expect.objectContaining({ host: 'api.openai.com', rules: [expect.objectContaining({ kind: 'pinned-client' })] })]);
    expect(t.agent.store.state.pinnedHosts().map((p) => p.host)).toEqual(['api.openai.com']);

    // That client (curl, its TLS stack) is tunnelled now, each connection audited and in status;
    // the pin is the client's, with an end.
    expect(await curl()).toBe(60); // the origin's certificate, which the stranger CA does not sign either
    const status = t.agent.status();
    expect(status.engine.pinnedClients).toEqual([expect.objectContaining({ host: 'api.openai.com', client: expect.stringContaining('curl/') })]);
    expect(status.engine.pinnedClients[0]!.expiresAt).toBeGreaterThan(Date.now());
    expect(status.engine.bypass.counts).toEqual([{ kind: 'pinned-client', action: 'tunnelled', count: 1 }]);
    t.agent.store.audit.flushNow();
    expect(t.agent.store.audit.recordsAfter(0).filter((r) => r.kind === 'connect').at(-1)).toMatchObject({ host: 'api.openai.com', decision: 'allow', rules: [expect.objectContaining({ kind: 'bypass-pinned-client' })] });
  });
});
