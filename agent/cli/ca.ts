/** `outpost ca path|show|trust|untrust|status|rotate`: the agent's certificate authority and the OS trust stores. */
import type { Command } from 'commander';
import { loadAgentConfig } from '../config/load.js';
import { loadPolicyFile } from '../policy/load.js';
import { defaultPolicy } from '../../shared/policy/default-policy.js';
import { openCertificateAuthority, type CertificateAuthority } from '../ca/certificate-authority.js';
import { describeCertificate } from '../ca/root-authority.js';
import { trustEverywhere, trustStatus, trustStores, untrustEverywhere, type StoreOutcome } from '../ca/trust/index.js';
import { CaError } from '../ca/errors.js';
import { readRuntimeInfo } from '../control/runtime.js';
import { readControlToken } from '../control/token.js';
import { caRotation } from '../../shared/schema/control.js';
import { output } from './output.js';

interface CommonOptions {
  config?: string;
  json?: boolean;
}

async function open(opts: CommonOptions): Promise<CertificateAuthority> {
  const config = await loadAgentConfig(opts.config ?? null);
  const policy = config.policyFile === null ? defaultPolicy() : await loadPolicyFile(config.policyFile);
  return openCertificateAuthority(config, policy, { followPolicy: false });
}

async function requireCert(ca: CertificateAuthority) {
  const cert = await ca.trusted();
  if (cert === null) throw new CaError('CA_NO_INTERMEDIATE', `no organisation root yet at ${ca.caFile}: enrol the device first`);
  return cert;
}

function outcomeLines(outcomes: readonly StoreOutcome[], verb: string): string {
  if (outcomes.length === 0) return 'no trust store found on this system';
  const lines = outcomes.map((o) => (o.ok ? `${verb}: ${o.description}` : `FAILED: ${o.description}: ${o.error ?? ''}`));
  if (outcomes.some((o) => !o.ok && /EACCES|EPERM|permission/i.test(o.error ?? ''))) {
    lines.push('the system store needs administrator rights: run it with sudo, or use --user-only for your own stores');
  }
  return lines.join('\n');
}

function common(cmd: Command): Command {
  return cmd.option('-c, --config <file>', 'agent config file (JSON)').option('--json', 'print the result as JSON');
}

/** Adds the `ca` group to the command tree. */
export function registerCa(program: Command): void {
  const group = program.command('ca').description('the local certificate authority and the OS trust stores');

  common(group.command('path').description('print the path of the CA certificate clients trust'))
    .option('--bundle', 'print the combined bundle (OS roots + ours) instead')
    .action(async (opts: CommonOptions & { bundle?: boolean }) => {
      const ca = await open(opts);
      const file = opts.bundle ? ca.bundleFile : ca.caFile;
      output(opts.json, { caFile: ca.caFile, bundleFile: ca.bundleFile }, file);
    });

  common(group.command('show').description('describe the CA certificate (add --pem for the certificate itself)'))
    .option('--pem', 'print the PEM certificate')
    .action(async (opts: CommonOptions & { pem?: boolean }) => {
      const ca = await open(opts);
      const cert = await requireCert(ca);
      if (opts.pem) {
        process.stdout.write(cert.pem);
        return;
      }
      const d = describeCertificate(cert.pem);
      const constraints = (ca.root?.ca ?? ca.fleet?.ca)?.permittedDns ?? null;
      const data = { mode: ca.mode, file: ca.caFile, ...d, nameConstraints: constraints };
      const text = [
        `mode:        ${ca.mode}`,
        `file:        ${ca.caFile}`,
        `subject:     ${d.subject}`,
        `sha256:      ${d.fingerprint256}`,
        `valid:       ${d.validFrom} → ${d.validTo}`,
        `constrained: ${constraints === null ? 'no (may issue for any host)' : constraints.join(', ')}`,
      ].join('\n');
      output(opts.json, data, text);
    });

  common(group.command('trust').description('install the CA in the OS trust stores (system store needs root/admin)'))
    .option('--user-only', 'only the per-user stores (NSS databases), not the system store')
    .action(async (opts: CommonOptions & { userOnly?: boolean }) => {
      const ca = await open(opts);
      const outcomes = await trustEverywhere(await requireCert(ca), await trustStores({ system: !opts.userOnly }));
      output(opts.json, { outcomes }, outcomeLines(outcomes, 'trusted in'));
      if (outcomes.some((o) => !o.ok)) process.exitCode = 1;
    });

  common(group.command('untrust').description('remove the CA from every trust store it was installed in'))
    .action(async (opts: CommonOptions) => {
      const ca = await open(opts);
      const outcomes = await untrustEverywhere(await requireCert(ca), await trustStores());
      output(opts.json, { outcomes }, outcomeLines(outcomes, 'removed from'));
      if (outcomes.some((o) => !o.ok)) process.exitCode = 1;
    });

  common(group.command('status').description('CA validity, where its key lives, and which trust stores hold it'))
    .action(async (opts: CommonOptions) => {
      const ca = await open(opts);
      const cert = await ca.trusted();
      const stores = cert ? await trustStatus(cert, await trustStores()) : [];
      const d = cert ? describeCertificate(cert.pem) : null;
      const intermediate = ca.fleet?.ca ? describeCertificate(ca.fleet.ca.certPem) : null;
      const data = {
        mode: ca.mode,
        caFile: ca.caFile,
        bundleFile: ca.bundleFile,
        validTo: d?.validTo ?? null,
        keyStore: { backend: ca.keychain.backend, weaker: ca.keychain.backend === 'file', description: ca.keychain.description },
        intermediate: ca.mode === 'fleet' ? { installed: intermediate !== null, validTo: intermediate?.validTo ?? null } : undefined,
        stores: stores.map((s) => ({ store: s.store, description: s.description, trusted: s.trusted ?? false, error: s.error })),
      };
      const lines = [
        `mode:      ${ca.mode}`,
        `CA:        ${ca.caFile}${d ? ` (valid until ${d.validTo})` : ' (none yet: enrol the device)'}`,
        `key store: ${ca.keychain.description}${ca.keychain.backend === 'file' ? '  [WEAKER]' : ''}`,
        `bundle:    ${ca.bundleFile}`,
      ];
      if (ca.mode === 'fleet') lines.push(`intermediate: ${intermediate ? `valid until ${intermediate.validTo}` : 'not installed'}`);
      for (const s of stores) lines.push(`${s.trusted ? 'trusted    ' : 'not trusted'} ${s.description}${s.error ? ` (${s.error})` : ''}`);
      output(opts.json, data, lines.join('\n'));
    });

  common(group.command('rotate').description('make a new root (new key) and re-trust it where the old one was trusted; a running agent switches with traffic flowing'))
    .action(async (opts: CommonOptions) => {
      const config = await loadAgentConfig(opts.config ?? null);
      const running = await readRuntimeInfo(config.home);
      const token = await readControlToken(config.home);
      if (running !== null && token !== null) {
        // The running agent holds the key in use: it trusts the new root beside the old one, switches, then drops the old.
        const res = await fetch(`${running.controlUrl}/v1/ca/rotate`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
        const body: unknown = await res.json();
        if (!res.ok) throw new CaError('CA_TRUST_COMMAND', `the running agent could not rotate the CA: ${(body as { error?: { message?: string } }).error?.message ?? res.status}`);
        const done = caRotation.parse(body);
        const lines = [`new root ${done.fingerprint256}, in use by the running agent`];
        if (done.command !== null) lines.push(`not trusted yet in: ${done.pending.map((p) => p.description).join('; ')}`, `run: ${done.command}`);
        output(opts.json, { rotated: true, running: true, ...done }, lines.join('\n'));
        return;
      }
      const ca = await open(opts);
      const before = ca.root ? describeCertificate(ca.root.ca.certPem).fingerprint256 : null;
      await ca.rotate();
      const after = describeCertificate((await requireCert(ca)).pem).fingerprint256;
      const command = ca.retrustCommand();
      const text = `new root ${after} (was ${before ?? 'none'})${command === null ? '' : `\nnot trusted yet everywhere: run ${command}`}`;
      output(opts.json, { rotated: true, running: false, before, after, pending: ca.pendingTrust(), command }, text);
    });
}
