/**
 * `outpost enroll --gateway URL --token TOKEN`: registers this device with a central gateway. The
 * token may also come on standard input (`--token -`), which keeps it out of the process list and
 * the shell history. `outpost enroll --gateway URL --sso` instead signs the person in through the
 * company's identity provider in the browser, and the device speaks for them (`user:<email>`).
 */
import type { Command } from 'commander';
import { loadAgentConfig } from '../config/load.js';
import { enrollAgent } from '../sync/enroll.js';
import { ssoSignIn } from '../sync/sso-sign-in.js';
import { openBrowser } from '../system/open-browser.js';
import { output } from './output.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

/**
 * The browser sign-in: the URL goes to standard error (standard output stays the result, JSON with
 * --json) and, unless --no-browser, to the default browser.
 */
async function signIn(gatewayUrl: string, browser: boolean): Promise<{ token: string; codeVerifier: string }> {
  const { code, codeVerifier } = await ssoSignIn(gatewayUrl, {
    open: async (url) => {
      const opened = browser && (await openBrowser(url));
      process.stderr.write(`${opened ? 'Your browser is opening to sign in. If it did not, open' : 'To sign in, open'} this address on this computer:\n${url}\n`);
    },
  });
  return { token: code, codeVerifier };
}

/** Adds `enroll` to the command tree. */
export function registerEnroll(program: Command): void {
  program
    .command('enroll')
    .description('register this device with a central gateway: the gateway then manages its policy and receives its audit')
    .requiredOption('--gateway <url>', 'the gateway\'s base URL (https://…; plain http:// only on this machine)')
    .option('--token <token>', 'the one-time enrollment token from your administrator ("-": read it from standard input)')
    .option('--sso', 'sign in with your company account in the browser instead of a token: the device is linked to you')
    .option('--no-browser', 'with --sso: only print the sign-in URL (open it on this machine yourself)')
    .option('--ca-file <file>', 'a CA (PEM) that issued the gateway\'s TLS certificate (default: gateway.caFile, upstream.caFile, the system roots)')
    .option('--pin <sha256>', 'refuse a gateway certificate whose key has another SHA-256 (base64 SPKI digest, e.g. sha256/…)')
    .option('--replace', 'enroll again though already enrolled (the gateway sees a new device)')
    .option('-c, --config <file>', 'agent config file (JSON)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { gateway: string; token?: string; sso?: boolean; browser: boolean; caFile?: string; pin?: string; replace?: boolean; config?: string; json?: boolean }) => {
      if ((opts.token === undefined) === (opts.sso !== true)) throw new Error('give either --token TOKEN (from your administrator) or --sso (sign in with your company account)');
      const config = await loadAgentConfig(opts.config ?? null);
      const credentials = opts.sso === true ? await signIn(opts.gateway, opts.browser) : { token: opts.token === '-' ? await readStdin() : (opts.token ?? ''), codeVerifier: undefined };
      if (credentials.token.length === 0) throw new Error('no enrollment token on standard input');
      const enrolled = await enrollAgent(config, {
        gatewayUrl: opts.gateway,
        token: credentials.token,
        ...(credentials.codeVerifier === undefined ? {} : { codeVerifier: credentials.codeVerifier }),
        ...(opts.caFile === undefined ? {} : { caFile: opts.caFile }),
        ...(opts.pin === undefined ? {} : { spkiSha256: opts.pin }),
        ...(opts.replace === true ? { replace: true } : {}),
      });
      output(
        opts.json,
        { ok: true, deviceId: enrolled.deviceId, gateway: enrolled.gatewayUrl, team: enrolled.team, user: enrolled.user, caMode: config.ca.mode },
        [
          `enrolled as ${enrolled.deviceId} with ${enrolled.gatewayUrl}${enrolled.team === null ? '' : ` (team ${enrolled.team})`}${enrolled.user === null ? '' : `, signed in as ${enrolled.user}`}`,
          'the gateway\'s policy-signing key is pinned; the device credential is in the keychain',
          'outpost start now takes its policy from the gateway and uploads the audit to it',
        ].join('\n'),
      );
    });
}
