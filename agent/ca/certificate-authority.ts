/**
 * The certificate authority as the composition root sees it: built from the resolved config and
 * the policy, it gives the engine its CertificateSource (the leaf issuer) and keeps the CA, the
 * trust stores and the combined bundle in step when the policy or the CA changes.
 *
 *   const ca = await openCertificateAuthority(config, policy);
 *   engine({ certificates: ca.source, … });  runtime { caFile: ca.caFile, bundleFile: ca.bundleFile }
 *   on a new policy: await ca.applyPolicy(next);   fleet sync: await ca.renewIfDue(signer)
 */
import type { ResolvedAgentConfig } from '../config/load.js';
import type { Policy } from '../../shared/schema/policy.js';
import { openKeychain, type Keychain } from '../system/keychain.js';
import { KeyStore } from './keystore.js';
import { RootAuthority, type RootChange } from './root-authority.js';
import { FleetAuthority, type IntermediateSigner, type SignedIntermediate } from './fleet-authority.js';
import { LeafIssuer } from './issuer.js';
import { bundlePath, writeBundle } from './bundle.js';
import { trustedCert, type TrustStore, type TrustedCert } from './trust/types.js';
import { trustEverywhere, trustStatus, trustStores, type StoreOutcome } from './trust/index.js';
import { permits, type IssuingCa } from './issuing-ca.js';
import { readFileOrNull } from './files.js';
import { CaError } from './errors.js';

export interface CertificateAuthorityOptions {
  /** The user's home for NSS databases (tests); the OS user's home by default. */
  readonly userHome?: string;
  /** Trust stores to keep in step on a re-issue; detected by default. */
  readonly stores?: () => Promise<TrustStore[]>;
  /** System bundles to read OS roots from (tests). */
  readonly systemBundles?: readonly string[];
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
  /** Follows a new policy: re-issues (and re-trusts) a root that does not cover its hosts; prewarms them. */
  applyPolicy(policy: Policy): Promise<RootChange>;
  /**
   * What the last re-trust did (after a re-issue or rotation), one outcome per store that trusted
   * the old root. A store that refuses (no admin rights for the system store) does not stop the
   * change: the new root is in use, and status shows where it still has to be trusted.
   */
  lastRetrust(): readonly StoreOutcome[];
  /** Rewrites the combined bundle from the current OS roots (the composition root calls it daily). */
  refreshBundle(): Promise<void>;
  /** `outpost ca rotate` (standalone): a new key and root, re-trusted where the old one was. */
  rotate(): Promise<void>;
  /** Fleet: installs a signed intermediate and switches the issuer to it. */
  installIntermediate(signed: SignedIntermediate): Promise<void>;
  /**
   * Fleet: when no intermediate is installed, a third of its life is left, or it does not cover the
   * policy's hosts, sends a CSR through
   * `signer` (the sync client's round trip to the gateway) and installs the answer. The sync client
   * calls it after each connect and daily; resolves true when it renewed.
   */
  renewIfDue(signer: IntermediateSigner): Promise<boolean>;
}

/** Builds the CA from config and policy; creates the root on first start; prewarms the policy's exact hosts. */
export async function openCertificateAuthority(config: ResolvedAgentConfig, policy: Policy, options: CertificateAuthorityOptions = {}): Promise<CertificateAuthority> {
  const keychain = await openKeychain({ home: config.home, mode: config.ca.keyStore });
  const keys = new KeyStore(keychain);
  const home = config.home;
  const stores = options.stores ?? (() => trustStores(options.userHome === undefined ? {} : { userHome: options.userHome }));
  const hosts = (p: Policy): string[] => p.interception.hosts;

  const root =
    config.ca.mode === 'standalone'
      ? await RootAuthority.open({ home, keys, constrainTo: config.ca.nameConstraints ? hosts(policy) : null })
      : null;
  const fleet = config.ca.mode === 'fleet' ? await FleetAuthority.open({ home, keys, requireNameConstraints: config.ca.nameConstraints }) : null;
  const caFile = root ? root.certPath : FleetAuthority.orgRootPath(home);
  const issuingCa = (): IssuingCa | null => root?.ca ?? fleet?.ca ?? null;
  const source = await LeafIssuer.create(issuingCa());

  const trusted = async (): Promise<TrustedCert | null> => {
    const pem = root ? root.ca.certPem : await readFileOrNull(caFile);
    return pem === null ? null : trustedCert(pem, caFile, home);
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
  let retrust: readonly StoreOutcome[] = [];
  /** Swaps the root: re-trusts it in the stores that trusted the old one, rewrites the bundle. */
  const afterRootChange = async (before: TrustedCert | null, p: Policy | null): Promise<void> => {
    const after = await trusted();
    if (before && after) {
      const all = await stores();
      const was = await trustStatus(before, all);
      retrust = await trustEverywhere(after, all.filter((store) => was.find((o) => o.store === store.id)?.trusted));
    }
    source.setCa(issuingCa() as IssuingCa);
    await refreshBundle();
    if (p) await prewarm(p);
  };

  const installIntermediate = async (signed: SignedIntermediate): Promise<void> => {
    if (!fleet) throw new CaError('ERR_OUTPOST_CA_NO_INTERMEDIATE', 'standalone mode has no intermediate');
    source.setCa(await fleet.install(signed));
    await refreshBundle();
    await prewarm(current);
  };

  await refreshBundle();
  await prewarm(policy);
  let current = policy;

  return {
    mode: config.ca.mode,
    source,
    caFile,
    bundleFile: bundlePath(home),
    keychain,
    root,
    fleet,
    trusted,
    lastRetrust: () => retrust,
    refreshBundle,
    async applyPolicy(next) {
      current = next;
      if (!root) {
        await prewarm(next);
        return 'unchanged';
      }
      const before = await trusted();
      const change = await root.coverHosts(hosts(next));
      if (change === 'unchanged') await prewarm(next);
      else await afterRootChange(before, next);
      return change;
    },
    async rotate() {
      if (!root) throw new CaError('ERR_OUTPOST_TRUST_UNSUPPORTED', 'fleet mode: the device intermediate is renewed through the gateway, not rotated locally');
      const before = await trusted();
      await root.rotate();
      await afterRootChange(before, current);
    },
    installIntermediate,
    async renewIfDue(signer) {
      if (!fleet || !fleet.needsRenewal(hosts(current))) return false;
      await installIntermediate(await signer(await fleet.csr()));
      return true;
    },
  };
}
