/**
 * A stand-in for the agent's request path, run as a child process by crash.test.ts: the real store
 * (`openAgentStore`), the core's real budget ledger with persisted counters, and an HTTP front that
 * forwards each request to the fake provider over HTTPS and, like the gate's response tap, records
 * the audit entry when the upstream response ends and only then ends the client's response.
 *
 * argv: HOME UPSTREAM(127.0.0.1:PORT) CA_FILE. Prints `{"port":N}` once listening.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { openAgentStore } from '../../../agent/store/agent-store.js';
import { BudgetLedger, type BudgetState } from '../../../shared/core/budgets.js';
import type { AuditEntry } from '../../../shared/schema/audit.js';

const [home, upstream, caFile] = process.argv.slice(2) as [string, string, string];
const [upHost, upPort] = upstream.split(':') as [string, string];
const ca = fs.readFileSync(caFile);

/** What each request costs (crash.test.ts knows it too): a fixed price keeps the spend arithmetic exact. */
const COST_USD = 0.001;
const level = { id: 'org-monthly', scope: 'org', limitUsd: 1_000_000, period: '1M' as const };

const store = openAgentStore({ home, audit: { spoolMaxBytes: 1 << 30 } }, { failMode: 'open' });
const ledger = new BudgetLedger();
const saved = store.state.loadCounters();
if (saved !== null) {
  ledger.importState(saved.document as BudgetState, Date.now());
  // Spend recorded after the last counter save (the agent was killed): replay it from the audit.
  for (const r of store.audit.recordsAfter(saved.throughSeq)) {
    const t = ledger.reserve([level], 0, Date.now());
    if (t.ok) ledger.settle(t, r.costUsd ?? 0);
  }
}
store.persistCounters(() => ledger.exportState(), 50);

const agent = new https.Agent({ keepAlive: true, ca, maxSockets: 64 });

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const start = performance.now();
    const id = String(req.headers['x-request-id']);
    const ticket = ledger.reserve([level], COST_USD, Date.now());
    const up = https.request({
      host: upHost,
      port: Number(upPort),
      servername: 'api.openai.com',
      agent,
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { host: 'api.openai.com', 'content-type': 'application/json', authorization: 'Bearer sk-test', 'x-request-id': id },
    });
    up.on('error', () => res.destroy());
    up.on('response', (ur) => {
      let ttfb: number | null = null;
      res.writeHead(ur.statusCode ?? 502, { 'content-type': String(ur.headers['content-type'] ?? 'application/json') });
      ur.on('data', (c: Buffer) => {
        ttfb ??= performance.now() - start;
        res.write(c);
      });
      ur.on('end', () => {
        // The tap's end(): account, record, and only then the client's response ends.
        if (ticket.ok) ledger.settle(ticket, COST_USD);
        const entry: AuditEntry = {
          id,
          time: new Date().toISOString(),
          kind: 'request',
          device: 'crash-test',
          user: 'tester',
          app: String(req.headers['user-agent'] ?? '') || null,
          host: 'api.openai.com',
          provider: 'openai',
          endpoint: 'chat.completions',
          method: 'POST',
          model: 'gpt-4.1-mini',
          stream: false,
          principal: 'org',
          decision: 'allow',
          rules: [],
          status: ur.statusCode ?? null,
          error: null,
          latencyMs: performance.now() - start,
          ttfbMs: ttfb,
          inputTokens: 10,
          outputTokens: 20,
          cachedTokens: 0,
          tokensEstimated: false,
          costUsd: COST_USD,
          priceVersion: 'test',
          prompt: null,
          output: null,
          headers: { 'user-agent': String(req.headers['user-agent'] ?? '') },
        };
        store.audit.record(entry);
        res.end();
      });
    });
    up.end(Buffer.concat(chunks));
  });
});

server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof addr === 'object' && addr !== null ? addr.port : 0 })}\n`);
});

process.on('SIGTERM', () => {
  server.close();
  void store.close().then(() => process.exit(0));
});
