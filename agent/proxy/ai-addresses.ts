/**
 * Which governed host an address belongs to, for the transparent door (issue 15): a client that
 * sends a harmless server name to an AI host's address (domain fronting towards the AI host) would
 * otherwise be tunnelled there ungoverned, since the door tunnels to the original destination.
 *
 * Filled two ways: every transparent connection intercepted under a governed name teaches the
 * address its client resolved (exact, free), and the policy's exact host names are resolved ahead
 * (the `upstream.resolve` map first, then DNS through c-ares: no thread-pool lookups, a short
 * timeout, never /etc/hosts games). Bounded; the oldest entries go first.
 */
import { Resolver as DnsResolver } from 'node:dns/promises';
import net from 'node:net';
import type { Resolver } from './upstream-dial.js';

/** Most addresses remembered (a policy names tens of hosts, each with a handful of addresses). */
const MAX_ADDRESSES = 4096;

/** Addresses → the governed host they were seen or resolved for. */
export class AiAddressBook {
  private readonly byAddress = new Map<string, string>();
  private readonly dns = new DnsResolver({ timeout: 2_000, tries: 1 });

  /** Remembers that `address` serves `host` (most recent wins). */
  learn(address: string, host: string): void {
    this.byAddress.delete(address);
    this.byAddress.set(address, host);
    if (this.byAddress.size > MAX_ADDRESSES) {
      const oldest = this.byAddress.keys().next().value;
      if (oldest !== undefined) this.byAddress.delete(oldest);
    }
  }

  /** The governed host `address` belongs to, or null. */
  hostAt(address: string): string | null {
    return this.byAddress.get(address) ?? null;
  }

  /** Resolves the exact names among `hosts` (wildcards cannot be) and learns their addresses. */
  async seed(hosts: readonly string[], resolver: Resolver): Promise<void> {
    await Promise.all(
      hosts
        .filter((h) => !h.includes('*'))
        .map(async (host) => {
          const mapped = resolver.target(host, 443).host;
          if (net.isIP(mapped) !== 0) {
            this.learn(mapped, host);
            return;
          }
          const found = await Promise.all([this.dns.resolve4(mapped).catch(() => []), this.dns.resolve6(mapped).catch(() => [])]);
          for (const address of found.flat()) this.learn(address, host);
        }),
    );
  }

  /** Stops pending DNS queries (engine close). */
  close(): void {
    this.dns.cancel();
  }
}
