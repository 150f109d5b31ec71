/** `outpost status`: what the running agent is doing, from its control API. */
import type { Command } from 'commander';
import { loadAgentConfig } from '../config/load.js';
import { readRuntimeInfo } from '../control/runtime.js';
import { readControlToken } from '../control/token.js';
import { agentStatus, type AgentStatus } from '../../shared/schema/control.js';
import { output } from './output.js';

function lines(s: AgentStatus): string {
  const out = [
    `Outpost ${s.version} (pid ${s.pid}, since ${s.startedAt})`,
    `policy   "${s.policy.name}" v${s.policy.version} from ${s.policy.source}, fail ${s.policy.failMode}`,
    `proxy    ${s.proxy.address}  (PAC ${s.proxy.pac})`,
    `CA       ${s.ca.mode}, ${s.ca.caFile}, key in ${s.ca.keyStore}${s.ca.weakKeyStore ? ' (weaker than the OS keychain)' : ''}${s.ca.notAfter ? `, valid until ${s.ca.notAfter}` : ''}`,
    `         ${s.ca.permittedDns === null ? 'not name-constrained' : `constrained to ${s.ca.permittedDns.join(', ')}`}`,
    `doors    proxy ${s.engine.doors.proxy} connections${s.transparent.port === null ? ', transparent off' : `, transparent (127.0.0.1:${s.transparent.port}) ${s.engine.doors.transparent}`}`,
    `traffic  ${s.engine.intercepted} intercepted${s.engine.http2Sessions ? ` (${s.engine.http2Sessions} over HTTP/2)` : ''}, ${s.engine.tunnelled} tunnelled, ${s.engine.blocked} blocked, ${s.engine.connections} open connections`,
    `audit    ${s.audit.records ?? '?'} records${s.audit.degraded ? `, DEGRADED: ${s.audit.reason ?? ''}` : ''}${s.audit.pendingInMemory > 0 ? `, ${s.audit.pendingInMemory} waiting in memory` : ''}`,
  ];
  const g = s.gateway;
  if (g) {
    const link = g.state === 'connected' ? `connected since ${g.connectedSince ?? '?'}` : g.state === 'waiting' ? `offline${g.unreachableSince ? ` since ${g.unreachableSince}` : ''}, retrying${g.nextAttemptAt ? ` at ${g.nextAttemptAt}` : ''}${g.lastError ? ` (${g.lastError})` : ''}` : g.state.toUpperCase();
    out.push(`gateway  ${g.url} as ${g.deviceId}: ${link}`);
    out.push(`         signed policy ${g.policyVersion === null ? 'not received yet (local policy serves)' : `v${g.policyVersion}${g.policySignedAt ? ` (signed ${g.policySignedAt})` : ''}`}, audit acknowledged through #${g.audit.acknowledgedSeq}, ${g.audit.pending} waiting`);
    if (g.policyRejected) out.push(`         REFUSED signed policy v${g.policyRejected.version}: ${g.policyRejected.reason}`);
  }
  if (s.gate.last !== null) out.push(`gate     ${s.gate.failures} internal failures, the last at ${s.gate.last.at} (${s.gate.last.stage}, failed ${s.gate.last.failMode}): ${s.gate.last.message}`);
  for (const p of s.engine.pinnedClients) out.push(`pinned   ${p.client} for ${p.host} (rejects our CA; until ${new Date(p.expiresAt).toISOString()})`);
  if (s.engine.bypass.total > 0) {
    out.push(`bypass   ${s.engine.bypass.total} attempts: ${s.engine.bypass.counts.map((c) => `${c.count} ${c.kind} ${c.action}`).join(', ')}`);
    const last = s.engine.bypass.recent.at(-1);
    if (last !== undefined) out.push(`         latest ${last.at}: ${last.detail}${last.app === null ? '' : ` (${last.app})`}`);
  }
  if (s.unread.total > 0) {
    // Coverage gaps: calls forwarded without being read, the busiest endpoints first.
    out.push(`unread   ${s.unread.total} calls no adapter reads (${s.unread.requestBytes} bytes sent, ${s.unread.responseBytes} received), recorded:`);
    for (const e of [...s.unread.endpoints].sort((a, b) => b.count - a.count).slice(0, 5)) out.push(`         ${e.count}× ${e.method} ${e.host}${e.path} (${e.reason})`);
  }
  for (const d of s.degraded) out.push(`WARNING  ${d}`);
  return out.join('\n');
}

/** Adds `status` to the command tree. */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the running agent: policy, proxy, CA, traffic, audit health')
    .option('-c, --config <file>', 'agent config file')
    .option('--json', 'print the status as JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const config = await loadAgentConfig(opts.config ?? null);
      const running = await readRuntimeInfo(config.home);
      const token = await readControlToken(config.home);
      if (running === null || token === null) {
        output(opts.json, { running: false, home: config.home }, `Outpost is not running (home ${config.home}). Start it with "outpost start".`);
        process.exitCode = 3;
        return;
      }
      const res = await fetch(`${running.controlUrl}/v1/status`, { headers: { authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`the control API answered ${res.status}`);
      const status = agentStatus.parse(await res.json());
      output(opts.json, { running: true, ...status }, lines(status));
    });
}
