/**
 * The Linux redirect behind transparent mode: one nftables table, `inet outpost`, so that removing
 * every rule is one command (`nft delete table inet outpost`) and nothing else on the machine is
 * touched. The ruleset text is built here as plain data (unit-tested) and applied in one atomic
 * `nft -f -` transaction; the agent's own uid is exempt, so its upstream connections never loop.
 */
import { execFile } from 'node:child_process';
import { z } from 'zod';
import { OutpostError } from '../../shared/errors.js';

/** The table's family and name. */
export const OUTPOST_TABLE = 'inet outpost';

/** What the redirect covers and where it sends it. */
export const redirectSpec = z.strictObject({
  /** The transparent listener's port (loopback, IPv4 and IPv6). */
  port: z.number().int().min(1).max(65_535),
  /** The uid the agent runs as: its traffic is never redirected (no loop). */
  exemptUid: z.number().int().min(0),
  /** Destination ports redirected (TCP). */
  ports: z.array(z.number().int().min(1).max(65_535)).min(1).default([443, 80]),
  /**
   * Only connections to these addresses (the policy's AI hosts, resolved) are redirected; null
   * redirects every destination. Kept fresh by replacing the sets' elements (`setElements`).
   */
  only: z.strictObject({ ipv4: z.array(z.ipv4()), ipv6: z.array(z.ipv6()) }).nullable().default(null),
  /** Refuse QUIC (UDP 443) so that clients fall back to TCP, which the redirect sees. */
  refuseQuic: z.boolean().default(true),
  /** The process that watches the agent and removes the table when it dies (shown by status). */
  watchdogPid: z.number().int().nullable().default(null),
});
export type RedirectSpec = z.infer<typeof redirectSpec>;

/** The marker on the redirect rule: status reads the installed spec back from it. */
const MARK = 'outpost-transparent';

function elements(values: readonly string[]): string {
  return values.length === 0 ? '' : ` elements = { ${values.join(', ')} };`;
}

/**
 * The whole table as `nft -f` text. The first two lines make it idempotent in one transaction:
 * create the table if missing, delete it, then define it afresh.
 */
export function redirectRuleset(input: z.input<typeof redirectSpec>): string {
  const spec = redirectSpec.parse(input);
  const dports = `{ ${spec.ports.join(', ')} }`;
  const marker = `comment "${MARK} port=${spec.port} uid=${spec.exemptUid} scope=${spec.only === null ? 'all' : 'ai-hosts'} watchdog=${spec.watchdogPid ?? 'none'}"`;
  const redirect =
    spec.only === null
      ? [`    meta l4proto tcp th dport ${dports} redirect to :${spec.port} ${marker}`]
      : [
          `    ip daddr @ai4 meta l4proto tcp th dport ${dports} redirect to :${spec.port} ${marker}`,
          `    ip6 daddr @ai6 meta l4proto tcp th dport ${dports} redirect to :${spec.port}`,
        ];
  const lines = [
    `table ${OUTPOST_TABLE} {}`,
    `delete table ${OUTPOST_TABLE}`,
    `table ${OUTPOST_TABLE} {`,
    ...(spec.only === null
      ? []
      : [`  set ai4 { type ipv4_addr;${elements(spec.only.ipv4)} }`, `  set ai6 { type ipv6_addr;${elements(spec.only.ipv6)} }`]),
    // Locally generated connections are redirected in the output hook (nat); loopback destinations
    // and the agent's own uid are left alone.
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    `    meta skuid ${spec.exemptUid} return`,
    '    ip daddr 127.0.0.0/8 return',
    '    ip6 daddr ::1 return',
    ...redirect,
    '  }',
    ...(spec.refuseQuic
      ? [
          // QUIC would carry the same requests over UDP, which a TCP redirect never sees: refused
          // at once (port unreachable), clients fall back to TCP.
          '  chain quic {',
          '    type filter hook output priority filter; policy accept;',
          `    meta skuid ${spec.exemptUid} return`,
          ...(spec.only === null ? ['    udp dport 443 reject'] : ['    ip daddr @ai4 udp dport 443 reject', '    ip6 daddr @ai6 udp dport 443 reject']),
          '  }',
        ]
      : []),
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

/** `nft -f` text that replaces the AI-host sets' elements (the DNS refresh). */
export function setElements(only: { readonly ipv4: readonly string[]; readonly ipv6: readonly string[] }): string {
  return [
    `flush set ${OUTPOST_TABLE} ai4`,
    `flush set ${OUTPOST_TABLE} ai6`,
    ...(only.ipv4.length > 0 ? [`add element ${OUTPOST_TABLE} ai4 { ${only.ipv4.join(', ')} }`] : []),
    ...(only.ipv6.length > 0 ? [`add element ${OUTPOST_TABLE} ai6 { ${only.ipv6.join(', ')} }`] : []),
    '',
  ].join('\n');
}

/** What `nft list table inet outpost` says about an installed redirect; null when there is none. */
export const installedRedirect = z.object({
  port: z.coerce.number().int(),
  uid: z.coerce.number().int(),
  scope: z.enum(['all', 'ai-hosts']),
  watchdogPid: z.number().int().nullable(),
});
export type InstalledRedirect = z.infer<typeof installedRedirect>;

/** Reads the marker back from `nft list table` text. */
export function parseInstalled(listing: string): InstalledRedirect | null {
  const m = new RegExp(`comment "${MARK} port=(\\d+) uid=(\\d+) scope=(all|ai-hosts) watchdog=(\\d+|none)"`).exec(listing);
  if (m === null) return null;
  return installedRedirect.parse({ port: m[1], uid: m[2], scope: m[3], watchdogPid: m[4] === 'none' ? null : Number(m[4]) });
}

/** An nft command that failed (missing binary, no CAP_NET_ADMIN, a rule the kernel refused). */
export class NftError extends OutpostError<'NFT_FAILED'> {
  constructor(message: string) {
    super('NFT_FAILED', message);
    this.name = 'NftError';
  }
}

/** Runs `nft` with `args`, feeding `input` on stdin; resolves with stdout, rejects with its stderr. */
export function nft(args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('nft', [...args], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new NftError(`nft ${args.join(' ')} failed: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
    // nft reads stdin only for `-f -`; other commands may exit before a write (EPIPE).
    child.stdin?.on('error', () => {});
    child.stdin?.end(input ?? '');
  });
}

/** Installs (or replaces) the redirect in one transaction. */
export async function installRedirect(spec: z.input<typeof redirectSpec>): Promise<void> {
  await nft(['-f', '-'], redirectRuleset(spec));
}

/** Removes the whole table; true when there was one. */
export async function removeRedirect(): Promise<boolean> {
  try {
    await nft(['delete', 'table', ...OUTPOST_TABLE.split(' ')]);
    return true;
  } catch (err) {
    if (/No such file or directory|does not exist/i.test((err as Error).message)) return false;
    throw err;
  }
}

/** The installed redirect, or null when the table is absent (or carries no Outpost marker). */
export async function readRedirect(): Promise<InstalledRedirect | null> {
  try {
    return parseInstalled(await nft(['list', 'table', ...OUTPOST_TABLE.split(' ')]));
  } catch (err) {
    if (/No such file or directory|does not exist/i.test((err as Error).message)) return null;
    throw err;
  }
}
