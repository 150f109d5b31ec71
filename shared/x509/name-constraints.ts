/**
 * From the policy's intercepted hosts to the CA's permitted DNS subtrees. A subtree `example.com`
 * covers that name and every name below it (RFC 5280 §4.2.1.10), so `*.openai.azure.com` becomes
 * `openai.azure.com` (which also admits the apex: DNS subtrees cannot say "below only" portably).
 */

/** The minimal sorted set of subtrees covering `hostPatterns`. */
export function subtreesFor(hostPatterns: readonly string[]): string[] {
  const bases = [...new Set(hostPatterns.map((h) => (h.startsWith('*.') ? h.slice(2) : h).toLowerCase()))];
  return bases.filter((b) => !bases.some((other) => other !== b && b.endsWith(`.${other}`))).sort();
}

/** True when every subtree in `wanted` lies inside one of `current` (nothing to re-issue). */
export function covers(current: readonly string[] | null, wanted: readonly string[]): boolean {
  if (current === null) return true;
  return wanted.every((w) => current.some((c) => w === c || w.endsWith(`.${c}`)));
}

/** The host patterns (as the policy writes them) that the subtrees `current` do not cover. */
export function uncoveredHosts(current: readonly string[] | null, hostPatterns: readonly string[]): string[] {
  return hostPatterns.filter((h) => !covers(current, subtreesFor([h])));
}
