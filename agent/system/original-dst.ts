/**
 * Where a redirected connection was going: `SO_ORIGINAL_DST` (Linux), read through the agent's one
 * native addon (`agent/system/native/original-dst.c`, built by `scripts/build-native.mjs` against Node's own
 * headers: no npm package offers it and Node has no getsockopt). nftables `redirect` rewrites the
 * destination to the transparent listener; the kernel keeps the original in the connection's NAT
 * entry, and this asks for it, so a connection with no SNI, or an SNI naming another host, is still
 * tunnelled to where it was going.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';

/** An original destination, as the kernel recorded it. */
export interface OriginalDestination {
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
}

interface Addon {
  originalDestination(fd: number): OriginalDestination | null;
}

/** Where the addon is: beside the sources (vitest) or beside dist/ (the built agent). */
const CANDIDATES = ['../../native/build/original-dst.node', '../../../native/build/original-dst.node'];

let loaded: { addon: Addon | null; reason: string | null } | null = null;

function load(): { addon: Addon | null; reason: string | null } {
  if (loaded !== null) return loaded;
  if (process.platform !== 'linux') return (loaded = { addon: null, reason: `SO_ORIGINAL_DST is Linux only (this is ${process.platform})` });
  const require = createRequire(import.meta.url);
  for (const candidate of CANDIDATES) {
    const file = fileURLToPath(new URL(candidate, import.meta.url));
    if (!fs.existsSync(file)) continue;
    try {
      return (loaded = { addon: require(file) as Addon, reason: null });
    } catch (err) {
      return (loaded = { addon: null, reason: `the original-destination addon does not load: ${(err as Error).message}` });
    }
  }
  return (loaded = { addon: null, reason: 'the original-destination addon is not built (npm run build needs a C compiler and Node headers)' });
}

/** Null when the original destination can be read here; else why not (for status and doctor). */
export function originalDestinationUnavailable(): string | null {
  return load().reason;
}

/**
 * The destination `socket` had before a redirect, or null: not redirected (a direct connection to
 * the listener), no addon, or no file descriptor (not a kernel socket).
 */
export function originalDestination(socket: net.Socket): OriginalDestination | null {
  const { addon } = load();
  const fd = (socket as net.Socket & { _handle?: { fd?: number } })._handle?.fd;
  if (addon === null || typeof fd !== 'number' || fd < 0) return null;
  return addon.originalDestination(fd);
}
