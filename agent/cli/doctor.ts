/** `outpost doctor [--json]`: every self-check, what is wrong and the command that fixes it; exit 1 when any check fails. */
import type { Command } from 'commander';
import { loadAgentConfig } from '../config/load.js';
import { doctorContext } from '../doctor/context.js';
import { runDoctor } from '../doctor/checks.js';
import type { DoctorReport } from '../../shared/schema/control.js';
import { output } from './output.js';

const MARK = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: '--  ' } as const;

function lines(report: DoctorReport): string {
  const out: string[] = [];
  for (const c of report.checks) {
    out.push(`${MARK[c.outcome]}  ${c.title}${c.id.includes(':') ? ` [${c.id.slice(c.id.indexOf(':') + 1)}]` : ''}`);
    out.push(`      ${c.detail}`);
    if (c.fix !== null) out.push(`      fix: ${c.fix}`);
  }
  const failed = report.checks.filter((c) => c.outcome === 'fail').length;
  const warned = report.checks.filter((c) => c.outcome === 'warn').length;
  out.push(failed === 0 ? `all checks passed${warned > 0 ? ` (${warned} warnings)` : ''}` : `${failed} checks failed${warned > 0 ? `, ${warned} warnings` : ''}`);
  return out.join('\n');
}

/** Adds `doctor` to the command tree. */
export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the agent, CA trust, system proxy, keychain, gateway and clock; print the command that fixes each failure')
    .option('-c, --config <file>', 'agent config file')
    .option('--json', 'print the report as JSON (the tray reads the same from GET /v1/diagnostics)')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const config = await loadAgentConfig(opts.config ?? null);
      const report = await runDoctor(doctorContext(config));
      output(opts.json, report, lines(report));
      if (!report.ok) process.exitCode = 1;
    });
}
