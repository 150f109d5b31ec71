/**
 * Pure: reading Linux's socket tables (`/proc/net/tcp`, `/proc/net/tcp6`): each line's local and
 * remote port and the socket's inode, the key to the process that holds it.
 */

/** One socket of the table. */
export interface ProcSocket {
  readonly localPort: number;
  readonly remotePort: number;
  readonly inode: number;
}

/** The sockets listed in one table's text (the header line and malformed lines skipped). */
export function parseProcNetTcp(text: string): ProcSocket[] {
  const out: ProcSocket[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
    if (f.length < 10 || !/^\d+:$/.test(f[0] ?? '')) continue;
    const local = (f[1] ?? '').split(':')[1];
    const remote = (f[2] ?? '').split(':')[1];
    const inode = Number(f[9]);
    if (local === undefined || remote === undefined || !Number.isInteger(inode) || inode === 0) continue;
    out.push({ localPort: Number.parseInt(local, 16), remotePort: Number.parseInt(remote, 16), inode });
  }
  return out;
}

/** The inode of the client's end of a loopback connection from `clientPort` to `serverPort`; null when not listed. */
export function clientInode(sockets: readonly ProcSocket[], clientPort: number, serverPort: number): number | null {
  return sockets.find((s) => s.localPort === clientPort && s.remotePort === serverPort)?.inode ?? null;
}
