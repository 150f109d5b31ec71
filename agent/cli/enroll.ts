/**
 * `outpost enroll --gateway URL --token TOKEN`: registers this device with a central gateway. The
 * token may also come on standard input (`--token -`), which keeps it out of the process list and
 * the shell history.
 */
import type { Command } from 'commander';
import { loadAgentConfig } from '../config/load.js';
import { enrollAgent } from '../sync/enroll.js';
import { output } from './output.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

/** Adds `enroll` to the command tree. */
export function registerEnroll(program: Command): void {
  program
    .command('enroll')
    .description('register this device with a central gateway: the gateway then manages its policy and receives its audit')
    .requiredOption('--gateway <url>', 'the gateway\'s base URL (https://…; plain http:// only on this machine)')
    .requiredOption('--token <token>', 'the one-time enrollment token from your administrator ("-": read it from standard input)')
    .option('--ca-file <file>', 'a CA (PEM) that issued the gateway\'s TLS certificate (default: gateway.caFile, upstream.caFile, the system roots)')
    .option('--pin <sha256>', 'refuse a gateway certificate whose key has another SHA-256 (base64 SPKI digest, e.g. sha256/…)')
    .option('--replace', 'enroll again though already enrolled (the gateway sees a new device)')
    .option('-c, --config <file>', 'agent config file (JSON)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { gateway: string; token: string; caFile?: string; pin?: string; replace?: boolean; config?: string; json?: boolean }) => {
      const config = await loadAgentConfig(opts.config ?? null);
      const token = opts.token === '-' ? await readStdin() : opts.token;
      if (token.length === 0) throw new Error('no enrollment token on standard input');
      const enrolled = await enrollAgent(config, {
        gatewayUrl: opts.gateway,
        token,
        ...(opts.caFile === undefined ? {} : { caFile: opts.caFile }),
        ...(opts.pin === undefined ? {} : { spkiSha256: opts.pin }),
        ...(opts.replace === true ? { replace: true } : {}),
      });
      output(
        opts.json,
        { ok: true, deviceId: enrolled.deviceId, gateway: enrolled.gatewayUrl, team: enrolled.team, caMode: config.ca.mode },
        [
          `enrolled as ${enrolled.deviceId} with ${enrolled.gatewayUrl}${enrolled.team === null ? '' : ` (team ${enrolled.team})`}`,
          'the gateway\'s policy-signing key is pinned; the device credential is in the keychain',
          'outpost start now takes its policy from the gateway and uploads the audit to it',
        ].join('\n'),
      );
    });
}
