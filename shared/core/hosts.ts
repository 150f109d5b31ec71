/**
 * Host matching for policy host patterns (`api.openai.com`, `*.openai.azure.com`). Pure and
 * allocation-free per lookup: exact names live in a Set, wildcard suffixes in an array, and a lookup
 * walks the host's parent domains without building substrings beyond one `slice` per level.
 */
import type { CustomProvider, ProviderLookup } from '../schema/custom-provider.js';

/** A compiled list of host patterns. */
export interface HostMatcher {
  /** True when `host` (lower case, no port) matches one of the patterns. */
  matches(host: string): boolean;
  /** The patterns as given (for the PAC file and `explain`). */
  readonly patterns: readonly string[];
}

/**
 * Compiles patterns as the policy schema validated them: an exact DNS name, or `*.suffix`, which
 * matches any subdomain at any depth and never the apex itself (so `*.openai.azure.com` does not
 * decrypt `openai.azure.com`).
 */
export function compileHostPatterns(patterns: readonly string[]): HostMatcher {
  const exact = new Set<string>();
  const suffixes = new Set<string>();
  for (const raw of patterns) {
    const p = raw.trim().toLowerCase();
    if (p.startsWith('*.')) suffixes.add(p.slice(2));
    else exact.add(p);
  }
  return {
    patterns: [...patterns],
    matches(host: string): boolean {
      if (exact.has(host)) return true;
      if (suffixes.size === 0) return false;
      // Walk parent domains: a.b.example.com → b.example.com → example.com → com.
      let dot = host.indexOf('.');
      while (dot !== -1) {
        if (suffixes.has(host.slice(dot + 1))) return true;
        dot = host.indexOf('.', dot + 1);
      }
      return false;
    },
  };
}

/** What the engine does with a CONNECT to a host (same union as the seam's `HostAction`). */
export type HostClass = 'intercept' | 'tunnel' | 'block';

/** The policy's `interception` block, as the classifier needs it. */
export interface InterceptionHosts {
  readonly hosts: readonly string[];
  readonly blockedHosts: readonly string[];
  readonly bypassHosts: readonly string[];
}

/**
 * Builds `classify(host)` from the policy's host lists. Precedence: blocked (shadow AI is refused even
 * if also listed for interception), then bypass (a pinned app is tunnelled even if it is an AI host),
 * then intercept; every other host is a blind tunnel.
 */
export function compileHostClassifier(interception: InterceptionHosts): (host: string) => HostClass {
  const blocked = compileHostPatterns(interception.blockedHosts);
  const bypass = compileHostPatterns(interception.bypassHosts);
  const intercept = compileHostPatterns(interception.hosts);
  return (host) => {
    const h = host.endsWith('.') ? host.slice(0, -1) : host;
    if (blocked.matches(h)) return 'block';
    if (bypass.matches(h)) return 'tunnel';
    return intercept.matches(h) ? 'intercept' : 'tunnel';
  };
}

/** The lookup of no custom provider (a policy without `providers`). */
export const NO_CUSTOM_PROVIDERS: ProviderLookup = () => null;

/**
 * Builds `lookup(host)` → the custom provider serving it, from the policy's `providers` (the schema
 * lets a host belong to one provider only). An exact name is a map lookup; wildcard hosts are
 * tried per provider. Classification is separate: declaring a provider already put its hosts in
 * `interception.hosts`, so blocked and bypassed hosts keep their precedence.
 */
export function compileProviderHosts(providers: readonly CustomProvider[]): ProviderLookup {
  if (providers.length === 0) return NO_CUSTOM_PROVIDERS;
  const exact = new Map<string, CustomProvider>();
  const wildcards: Array<{ readonly provider: CustomProvider; readonly hosts: HostMatcher }> = [];
  for (const provider of providers) {
    const patterns = provider.hosts.filter((h) => h.startsWith('*.'));
    for (const h of provider.hosts) if (!h.startsWith('*.')) exact.set(h, provider);
    if (patterns.length > 0) wildcards.push({ provider, hosts: compileHostPatterns(patterns) });
  }
  return (host) => {
    const h = host.endsWith('.') ? host.slice(0, -1) : host;
    const own = exact.get(h);
    if (own !== undefined) return own;
    for (const w of wildcards) if (w.hosts.matches(h)) return w.provider;
    return null;
  };
}
