/**
 * The agent's request path as a child process for crash.test.ts: the real interception engine, the
 * real gate, and the real store (`openAgentStore`) with its counters persisted, as the composition
 * root wires them. Upstream goes to the test's fake provider; the child makes its own test CA for
 * the leaves it presents to clients.
 *
 * argv: HOME UPSTREAM(127.0.0.1:PORT) UPSTREAM_CA_FILE. Prints `{"proxyUrl":…,"caPem":…}` once listening.
 */
import { createGate } from '../../../agent/pipeline/gate.js';
import { startProxy } from '../../../agent/proxy/engine.js';
import { openAgentStore } from '../../../agent/store/agent-store.js';
import type { GovernorState } from '../../../shared/core/decide.js';
import { policy } from '../../../shared/schema/policy.js';
import { createTestCa } from '../../support/test-ca.js';
import { testCertificates } from '../proxy/harness.js';

const [home, upstream, upstreamCa] = process.argv.slice(2) as [string, string, string];
const HOSTS = ['api.openai.com'];

const store = openAgentStore({ home, audit: { spoolMaxBytes: 1 << 30 } }, { failMode: 'open' });
const gate = createGate({
  // A daily budget far above what the test spends: every request is charged to it.
  policy: policy.parse({ version: 1, name: 'crash', interception: { hosts: HOSTS }, defaults: { budget: { limitUsd: 1000, period: '1d' } } }),
  audit: store.audit,
  secrets: { resolve: async () => null },
  identity: { device: 'dev-crash', user: 'jane@acme.example' },
});
const saved = store.state.loadCounters();
if (saved !== null) gate.importState(saved.document as GovernorState);
store.persistCounters(() => gate.exportState(), 50);

const ca = await createTestCa('Outpost crash-test agent CA');
const engine = await startProxy({
  config: {
    proxy: { host: '127.0.0.1', port: 0, maxBodyBytes: 1 << 20 },
    upstream: { resolve: { 'api.openai.com': upstream }, caFile: upstreamCa, proxy: null },
  },
  gate,
  certificates: testCertificates(ca),
  pacHosts: () => ({ hosts: HOSTS, blockedHosts: [], bypassHosts: [] }),
  ipv6: false,
});
process.stdout.write(`${JSON.stringify({ proxyUrl: engine.url, caPem: ca.caPem })}\n`);

process.on('SIGTERM', () => {
  void engine
    .close()
    .then(() => store.close())
    .then(() => ca.dispose())
    .then(() => process.exit(0));
});
