/**
 * Linux: the client socket's inode in `/proc/net/tcp{,6}`, then the `/proc/PID/fd` that links to
 * it, then `/proc/PID/exe`. Cheap in the common case: the processes that connected lately are
 * looked at first (an app opens many connections); a full scan of `/proc`, newest first and in
 * batches, runs only when none of them holds the socket. A process the agent may not inspect
 * (another user's, without privilege) reads as holding nothing.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { clientInode, parseProcNetTcp } from './proc-net.js';
import { ownerOf, type OwnerLookup, type ProcessOwner } from './owner-lookup.js';

/** Processes whose fd folders are looked at first. */
const RECENT = 16;
/** Processes whose fd folders are read at once during a full scan. */
const SCAN_BATCH = 32;

/** Finds connection owners under a `/proc` root (a test may point it elsewhere). */
export class ProcLookup implements OwnerLookup {
  private readonly recent: number[] = [];

  constructor(private readonly proc = '/proc') {}

  async find(clientPort: number, serverPort: number): Promise<ProcessOwner | null> {
    const tables = await Promise.all(['net/tcp', 'net/tcp6'].map((t) => fs.readFile(path.join(this.proc, t), 'utf8').catch(() => '')));
    const inode = clientInode(tables.flatMap(parseProcNetTcp), clientPort, serverPort);
    if (inode === null) return null;
    const link = `socket:[${inode}]`;
    for (const pid of [...this.recent]) if (await this.holds(pid, link)) return this.owner(pid);
    const pids = (await fs.readdir(this.proc).catch(() => [] as string[]))
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .filter((pid) => !this.recent.includes(pid) && pid !== process.pid)
      // Newest first: the client usually started after most of the system.
      .sort((a, b) => b - a);
    for (let i = 0; i < pids.length; i += SCAN_BATCH) {
      const batch = pids.slice(i, i + SCAN_BATCH);
      const held = await Promise.all(batch.map((pid) => this.holds(pid, link)));
      const at = held.indexOf(true);
      if (at !== -1) return this.owner(batch[at] as number);
    }
    return null;
  }

  private async holds(pid: number, link: string): Promise<boolean> {
    const dir = path.join(this.proc, String(pid), 'fd');
    const fds = await fs.readdir(dir).catch(() => [] as string[]);
    for (const fd of fds) if ((await fs.readlink(path.join(dir, fd)).catch(() => '')) === link) return true;
    return false;
  }

  private async owner(pid: number): Promise<ProcessOwner | null> {
    const exe = await fs.readlink(path.join(this.proc, String(pid), 'exe')).catch(() => null);
    if (exe === null) return null;
    const at = this.recent.indexOf(pid);
    if (at !== -1) this.recent.splice(at, 1);
    this.recent.unshift(pid);
    this.recent.length = Math.min(this.recent.length, RECENT);
    return ownerOf(pid, exe);
  }
}
