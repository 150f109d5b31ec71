/**
 * The certificate authority as the composition root sees it: built from the resolved config and
 * the policy, it gives the engine its CertificateSource (the leaf issuer) and keeps the CA, the
 * trust stores and the combined bundle in step when the policy or the CA changes.
 *
 *   const ca = await openCertificateAuthority(config, policy);   // follows `policy` already
 *   engine({ certificates: ca.source, … });  runtime { caFile: ca.caFile, bundleFile: ca.bundleFile }
 *   on a new policy: await ca.applyPolicy(next);   fleet sync: await ca.renewIfDue(signer)
 *   daily: await ca.maintain();   status: ca.coverage(), ca.pendingTrust(), ca.retrustCommand()
 *
 * `applyPolicy` is the one place that makes the CA cover a policy: opening calls it with the
 * policy in force at start (stored, file or default), and the agent calls it for every later
 * policy (hot reload, a gateway push, a rollback) before the gate sees that policy. Standalone, a
 * host outside the root's name constraints re-issues the root (same key, wider constraints) and
 * re-trusts it where the old one was trusted; fleet, the device intermediate is re-signed by the
 * gateway at the next sync (`renewIfDue`) and nothing needs re-trust. Until the CA covers a host,
 * `coverage()` names it and the engine refuses it (it is never tunnelled ungoverned).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ResolvedAgentConfig } from '../config/load.js';
import type { Policy } from '../../shared/schema/policy.js';
import type { CaCoverage, PendingTrust } from '../../shared/schema/control.js';
import { openKeychain, type Keychain } from '../system/keychain.js';
import { KeyStore } from './keystore.js';
import { RootAuthority, type RootChange } from './root-authority.js';
import { FleetAuthority, type IntermediateSigner, type SignedIntermediate } from './fleet-authority.js';
import { LeafIssuer } from './issuer.js';
import { bundlePath, writeBundle } from './bundle.js';
import { trustedCert, type TrustStore, type TrustedCert } from './trust/types.js';
import { trustStores, type StoreOutcome } from './trust/index.js';
import { Retrust, retrustCommand } from './trust/retrust.js';
import { permits, type IssuingCa } from './issuing-ca.js';
import { uncoveredHosts } from '../../shared/x509/name-constraints.js';
import { readFileOrNull } from '../system/files.js';
import { CaError } from './errors.js';

export interface CertificateAuthorityOptions {
  /** The user's home for NSS databases (tests); the OS user's home by default. */
  readonly userHome?: string;
  /** Trust stores to keep in step on a re-issue; detected by default. */
  readonly stores?: () => Promise<TrustStore[]>;
  /** System bundles to read OS roots from (tests). */
  readonly systemBundles?: readonly string[];
  /** The clock, for root renewal (tests); milliseconds like Date.now. */
  readonly now?: () => number;
  /**
   * False for the CLI's `ca` commands: they show, trust and rotate the CA as it is. Only the agent
   * follows a policy, the one in force (which may come from the store, not the file the CLI reads).
   */
  readonly followPolicy?: boolean;
}

/** The running CA. */
export interface CertificateAuthority {
  readonly mode: 'standalone' | 'fleet';
  /** What the interception engine uses. */
  readonly source: LeafIssuer;
  /** The certificate clients trust: the standalone root, or the organisation root in fleet mode. */
  readonly caFile: string;
  /** OS roots + ours, for the variables that replace a trust store. */
  readonly bundleFile: string;
  /** Where the CA key lives (status shows the file fallback as weaker). */
  readonly keychain: Keychain;
  readonly root: RootAuthority | null;
  readonly fleet: FleetAuthority | null;
  /** The trust-store view of the CA certificate, or null in fleet mode before enrollment. */
  trusted(): Promise<TrustedCert | null>;
  /**
   * Follows a policy: the one place that makes the CA cover its intercepted hosts (see the file
   * comment). Re-issues (and re-trusts) a standalone root that does not cover them; prewarms them.
   * It does not reject when the CA cannot be widened (the keychain refuses the write): the policy
   * still applies, and `coverage()` names the hosts that the engine refuses until it can.
   */
  applyPolicy(policy: Policy): Promise<RootChange>;
  /** The policy's hosts the CA cannot sign for now, and why. */
  coverage(): CaCoverage;
  /**
   * Stores that trusted an earlier CA certificate and do not trust the current one (the agent could
   * not install it there itself: no administrator rights). Empty in fleet mode: the organisation
   * root clients trust does not change when the intermediate does.
   */
  pendingTrust(): readonly PendingTrust[];
  /** The command that finishes the pending re-trust (`sudo outpost ca trust`, …), or null. */
  retrustCommand(): string | null;
  /** Re-checks the pending stores (the user may have run the command); cheap when none is pending. */
  recheckTrust(): Promise<void>;
  /** What the last re-trust did, one outcome per store that trusted the previous certificate. */
  lastRetrust(): readonly StoreOutcome[];
  /**
   * The daily upkeep: renews a standalone root near expiry (same key, re-trusted where the old one
   * was) and rewrites the combined bundle from the current OS roots. Resolves what happened to the root.
   */
  maintain(): Promise<RootChange>;
  /**
   * `outpost ca rotate` (standalone): a new key and root. It is trusted beside the old one in every
   * store that trusted the old one, then the issuer switches, then the old one is removed: a client
   * that reads its store per connection never meets a root it does not trust. When a store refuses
   * the new root, nothing changes and the error says where.
   */
  rotate(): Promise<void>;
  /** Fleet: installs a signed intermediate and switches the issuer to it. */
  installIntermediate(signed: SignedIntermediate): Promise<void>;
  /**
   * Fleet: when no intermediate is installed, a third of its life is left, or it does not cover the
   * policy's hosts, sends a CSR through
   * `signer` (the sync client's round trip to the gateway) and installs the answer. The sync client
   * calls it after each connect, after each policy it applies (a new host needs a wider
   * intermediate; until then `coverage()` names it and the engine refuses it), and daily; resolves
   * true when it renewed.
   */
  renewIfDue(signer: IntermediateSigner): Promise<boolean>;
}

/** Builds the CA from config and policy; creates the root on first start; follows `policy` (applyPolicy) unless told not to. */
export async function openCertificateAuthority(config: ResolvedAgentConfig, policy: Policy, options: CertificateAuthorityOptions = {}): Promise<CertificateAuthority> {
  const keychain = await openKeychain({ home: config.home, mode: config.ca.keyStore });
  const keys = new KeyStore(keychain);
  const home = config.home;
  const stores = options.stores ?? (() => trustStores(options.userHome === undefined ? {} : { userHome: options.userHome }));
  const retrust = new Retrust(stores);
  const hosts = (p: Policy): string[] => p.interception.hosts;
  const clock = options.now === undefined ? {} : { now: options.now };

  const root =
    config.ca.mode === 'standalone'
      ? await RootAuthority.open({ home, keys, constrainTo: config.ca.nameConstraints ? hosts(policy) : null, ...clock, ...(await fallbackFor(keychain, home)) })
      : null;
  const fleet = config.ca.mode === 'fleet' ? await FleetAuthority.open({ home, keys, requireNameConstraints: config.ca.nameConstraints, ...clock }) : null;
  const caFile = root ? root.certPath : FleetAuthority.orgRootPath(home);
  const issuingCa = (): IssuingCa | null => root?.ca ?? fleet?.ca ?? null;
  const source = await LeafIssuer.create(issuingCa());
  let current = policy;
  // One change at a time: a file reload, a gateway push, the daily upkeep and a rotation may
  // overlap, and each reads the root before it replaces it.
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(change: () => Promise<T>): Promise<T> => {
    const run = tail.then(change, change);
    tail = run.catch(() => undefined);
    return run;
  };
  /** Why the last attempt to widen the standalone root failed; null once it covers the policy. */
  let widenFailure: string | null = null;

  const certFor = (pem: string): TrustedCert => trustedCert(pem, caFile, home);
  const trusted = async (): Promise<TrustedCert | null> => {
    const pem = root ? root.ca.certPem : await readFileOrNull(caFile);
    return pem === null ? null : certFor(pem);
  };
  const refreshBundle = async (): Promise<void> => {
    const t = await trusted();
    if (t) await writeBundle(home, t.pem, options.systemBundles);
  };
  const prewarm = async (p: Policy): Promise<void> => {
    const ca = issuingCa();
    if (ca === null) return;
    // Only hosts the CA may sign for; a wildcard has no exact name to issue ahead.
    await source.prewarm(hosts(p).filter((h) => !h.startsWith('*.') && permits(ca.permittedDns, h)));
  };
  /**
   * The standalone root changed without a rotation's staging: the issuer switches at once, then the
   * new root goes where the old one was trusted, then the bundle. For a re-issue or a renewal (same
   * key and subject) a client still holding the old root keeps accepting leaves for the hosts it
   * covers meanwhile. A root re-made at open because its key was unreachable has a new key, but
   * nothing is served yet then.
   */
  const switchAndRetrust = async (before: TrustedCert): Promise<void> => {
    const was = await retrust.trustedBy(before);
    source.setCa(issuingCa() as IssuingCa);
    const after = await trusted();
    if (after) await retrust.carryOver(after, was);
    await refreshBundle();
  };

  const applyPolicy = async (next: Policy): Promise<RootChange> => {
    current = next;
    let change: RootChange = 'unchanged';
    if (root) {
      const before = certFor(root.ca.certPem);
      try {
        change = await root.coverHosts(hosts(next));
        widenFailure = null;
      } catch (err) {
        widenFailure = `the root could not be re-issued for them: ${(err as Error).message}`;
      }
      if (change !== 'unchanged') await switchAndRetrust(before);
    }
    await prewarm(next);
    return change;
  };

  const installIntermediate = async (signed: SignedIntermediate): Promise<void> => {
    if (!fleet) throw new CaError('CA_NO_INTERMEDIATE', 'standalone mode has no intermediate');
    source.setCa(await fleet.install(signed));
    await refreshBundle();
    await prewarm(current);
  };

  // A root replaced while opening (renewed near expiry, or re-made because its key was unreachable)
  // is re-trusted where its predecessor was, like any later change.
  if (root?.replaced) await switchAndRetrust(certFor(root.replaced));
  else await refreshBundle();
  if (options.followPolicy !== false) await applyPolicy(policy);

  return {
    mode: config.ca.mode,
    source,
    caFile,
    bundleFile: bundlePath(home),
    keychain,
    root,
    fleet,
    trusted,
    applyPolicy: (next) => serial(() => applyPolicy(next)),
    coverage() {
      const ca = issuingCa();
      const uncovered = ca === null ? [...hosts(current)] : uncoveredHosts(ca.permittedDns, hosts(current));
      if (uncovered.length === 0) return { uncovered, reason: null };
      if (root) return { uncovered, reason: widenFailure ?? 'the root does not cover them' };
      return {
        uncovered,
        reason: ca === null ? 'no device intermediate yet: the gateway signs one when the device enrols' : 'the device intermediate does not cover them yet: the gateway signs a new one at the next sync',
      };
    },
    pendingTrust: () => retrust.pendingStores(),
    retrustCommand: () => retrustCommand(retrust.pendingStores(), { platform: process.platform, isRoot: process.getuid?.() === 0, configFile: config.source }),
    async recheckTrust() {
      const t = await trusted();
      if (t) await retrust.recheck(t);
    },
    lastRetrust: () => retrust.lastOutcomes(),
    maintain: () => serial(async () => {
      let change: RootChange = 'unchanged';
      if (root) {
        const before = certFor(root.ca.certPem);
        if (await root.renewIfDue()) {
          await switchAndRetrust(before);
          change = 'renewed';
        }
      }
      if (change === 'unchanged') await refreshBundle();
      return change;
    }),
    rotate: () => serial(async () => {
      if (!root) throw new CaError('CA_TRUST_UNSUPPORTED', 'fleet mode: the device intermediate is renewed through the gateway, not rotated locally');
      const before = certFor(root.ca.certPem);
      const was = await retrust.trustedBy(before);
      const minted = await root.mint();
      // The stores install from a file: the new root waits beside root.pem until it is adopted.
      const stagedFile = path.join(path.dirname(caFile), 'root-next.pem');
      await fs.writeFile(stagedFile, minted.certPem, { mode: 0o644 });
      try {
        const staged = trustedCert(minted.certPem, stagedFile, home);
        const refused = await retrust.stage(staged, before, was);
        if (refused !== null) {
          throw new CaError('CA_TRUST_COMMAND', `the new root cannot be trusted in ${refused.description} (${refused.error ?? 'failed'}); nothing was changed. Run the rotation with the rights that store needs (e.g. sudo outpost ca rotate).`);
        }
        await root.adopt(minted);
        source.setCa(root.ca);
        await refreshBundle();
        // Now the old root goes: the stores keep only the new one, in the main slot or the staged one.
        await retrust.carryOver(certFor(root.ca.certPem), was);
      } finally {
        await fs.rm(stagedFile, { force: true });
      }
      await prewarm(current);
    }),
    installIntermediate: (signed) => serial(() => installIntermediate(signed)),
    // The signer's round trip runs outside the queue: only the install waits its turn.
    async renewIfDue(signer) {
      if (!fleet || !fleet.needsRenewal(hosts(current))) return false;
      const signed = await signer(await fleet.csr());
      await serial(() => installIntermediate(signed));
      return true;
    },
  };
}

/** With the OS keychain in use, the file fallback where a key made while it was unavailable may sit. */
async function fallbackFor(keychain: Keychain, home: string): Promise<{ fallbackKeys?: KeyStore }> {
  return keychain.backend === 'keychain' ? { fallbackKeys: new KeyStore(await openKeychain({ home, mode: 'file' })) } : {};
}
