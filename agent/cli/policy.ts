/** `outpost policy …`: work with policy documents. */
import type { Command } from 'commander';
import { loadPolicyFile } from '../policy/load.js';
import { InvalidDocumentError } from '../../shared/schema/validate.js';
import { output } from './output.js';

/** Adds `policy check FILE` to the command tree. */
export function registerPolicy(program: Command): void {
  const group = program.command('policy').description('validate and inspect policy documents');
  group
    .command('check')
    .description('validate a policy file: prints "ok", or every error with its JSON path (exit 1)')
    .argument('<file>', 'policy JSON file')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      try {
        const p = await loadPolicyFile(file);
        output(opts.json, { ok: true, name: p.name, version: p.version }, 'ok');
      } catch (err) {
        if (!(err instanceof InvalidDocumentError)) throw err;
        const text = err.problems.map((pr) => `${pr.path}: ${pr.message}`).join('\n');
        output(opts.json, { ok: false, problems: err.problems }, text);
        process.exitCode = 1;
      }
    });
}
