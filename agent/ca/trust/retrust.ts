/**
 * Re-trust after the CA certificate changed (a re-issue for new hosts, a renewal near expiry, a
 * rotation): the new certificate goes into every store that trusted the old one, and nowhere else
 * (a store the user never trusted us in stays untouched). What the agent may do itself it does: the
 * user's NSS databases always, the system store when it runs as root. What it may not do stays
 * pending, with the exact command that finishes it, until a check finds the store trusts the new
 * certificate (the user ran the command, or `outpost ca trust` from another shell).
 */
import type { PendingTrust } from '../../../shared/schema/control.js';
import type { TrustStore, TrustedCert } from './types.js';
import { trustEverywhere, trustStatus, type StoreOutcome } from './index.js';

/** Keeps the trust stores in step with the CA certificate. */
export class Retrust {
  private pending: PendingTrust[] = [];
  private last: readonly StoreOutcome[] = [];

  constructor(private readonly stores: () => Promise<TrustStore[]>) {}

  /** The stores that trust `cert` now: read before a change, so the change knows where to carry the new one. */
  async trustedBy(cert: TrustedCert): Promise<TrustStore[]> {
    const all = await this.stores();
    const status = await trustStatus(cert, all);
    return all.filter((store) => status.find((o) => o.store === store.id)?.trusted === true);
  }

  /** Installs `cert` in `stores` (replacing ours there); a store that refuses is kept as pending. */
  async carryOver(cert: TrustedCert, stores: readonly TrustStore[]): Promise<readonly StoreOutcome[]> {
    this.last = await trustEverywhere(cert, stores);
    const failed = this.last.filter((o) => !o.ok).map((o) => ({ store: o.store, description: o.description, error: o.error ?? 'failed' }));
    const retried = new Set(stores.map((s) => s.id));
    // A store retried now replaces its older entry; stores not involved this time stay pending.
    this.pending = [...this.pending.filter((p) => !retried.has(p.store)), ...failed];
    return this.last;
  }

  /**
   * Rotation's first step: `next` trusted beside the current certificate in every store of
   * `stores`, so clients accept both while the issuer switches. All or nothing: when one store
   * refuses, the stores that took it go back to `current` alone, and the refusal is returned.
   */
  async stage(next: TrustedCert, current: TrustedCert, stores: readonly TrustStore[]): Promise<StoreOutcome | null> {
    const outcomes: StoreOutcome[] = [];
    for (const store of stores) {
      try {
        await store.trustBeside(next);
        outcomes.push({ store: store.id, description: store.description, ok: true });
      } catch (err) {
        const refused = { store: store.id, description: store.description, ok: false, error: (err as Error).message };
        await trustEverywhere(current, stores.filter((s) => outcomes.some((o) => o.store === s.id)));
        return refused;
      }
    }
    return null;
  }

  /** Clears every pending store that now trusts `current` (someone ran the command). */
  async recheck(current: TrustedCert): Promise<void> {
    if (this.pending.length === 0) return;
    const all = (await this.stores()).filter((s) => this.pending.some((p) => p.store === s.id));
    const status = await trustStatus(current, all);
    const done = new Set(status.filter((o) => o.trusted === true).map((o) => o.store));
    // A store that disappeared (a Firefox profile deleted) needs nothing either.
    const present = new Set(all.map((s) => s.id));
    this.pending = this.pending.filter((p) => present.has(p.store) && !done.has(p.store));
  }

  /** Stores still waiting for the new certificate. */
  pendingStores(): readonly PendingTrust[] {
    return this.pending;
  }

  /** What the last carry-over did, one outcome per store. */
  lastOutcomes(): readonly StoreOutcome[] {
    return this.last;
  }
}

/** Where the command runs: the user, whether it already is root, and the agent's config file. */
export interface CommandContext {
  readonly platform: NodeJS.Platform;
  readonly isRoot: boolean;
  /** The agent's config file, passed on so the command finds the same home; null for the defaults. */
  readonly configFile: string | null;
}

/**
 * The command that finishes a pending re-trust: `outpost ca trust`, with `sudo` when a system store
 * is pending and the user is not root, then `outpost ca trust --user-only` as the user when one of
 * the user's NSS databases is (under sudo, HOME is root's, so the first would miss them). Null
 * when nothing is pending.
 */
export function retrustCommand(pending: readonly PendingTrust[], context: CommandContext): string | null {
  const config = context.configFile === null ? '' : ` --config ${shellQuote(context.configFile)}`;
  const system = pending.some((p) => !p.store.startsWith('nss:'));
  const user = pending.some((p) => p.store.startsWith('nss:'));
  // Windows and macOS ask for elevation their own way (an elevated prompt, an admin dialog).
  const sudo = context.isRoot || context.platform === 'win32' ? '' : 'sudo ';
  const commands: string[] = [];
  if (system) commands.push(`${sudo}outpost ca trust${config}`);
  if (user && (!system || sudo !== '')) commands.push(`outpost ca trust --user-only${config}`);
  return commands.length === 0 ? null : commands.join(' && ');
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
