/**
 * Which process opened a connection to the agent (issue 14.3, "apps seen in traffic"): on Linux,
 * from the client socket's inode in `/proc/net/tcp{,6}` to the process whose `/proc/PID/fd` holds
 * it, then its executable. Off the hot path: the lookup starts when a connection is accepted and
 * its answer is attached to the connection when it arrives (a request recorded before then says
 * nothing). Never fatal: a process the agent may not inspect, or an OS without `/proc`, is unknown.
 * Cheap in the common case: the processes that connected lately are looked at first (an app opens
 * many connections), and a full scan of `/proc` runs only when none of them holds the socket.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';
import { clientInode, parseProcNetTcp } from './proc-net.js';

/** The process behind a connection. */
export interface ProcessOwner {
  readonly pid: number;
  /** Its executable (`/proc/PID/exe`). */
  readonly exe: string;
  /** The executable's file name, as people name the app. */
  readonly name: string;
}

/** Looked-up owners, filled in when the lookup ends. */
export interface OwnerSlot {
  current: ProcessOwner | null;
}

/** Processes whose fd folders are looked at first. */
const RECENT = 16;
/** Processes whose fd folders are read at once during a full scan. */
const SCAN_BATCH = 32;

/** Finds connection owners under a `/proc` root (a test may point it elsewhere). Emits `found` (owner) after each lookup that found one. */
export class ProcessOwners extends EventEmitter {
  private readonly recent: number[] = [];

  constructor(private readonly proc = '/proc') {
    super();
  }

  /** Starts a lookup for a loopback client at `clientPort` talking to `serverPort`; the slot fills in when found. */
  watch(clientPort: number, serverPort: number): OwnerSlot {
    const slot: OwnerSlot = { current: null };
    this.lookup(clientPort, serverPort).then(
      (owner) => {
        slot.current = owner;
        if (owner !== null) this.emit('found', owner);
      },
      () => undefined,
    );
    return slot;
  }

  /** The process holding the client end of that connection, or null. */
  async lookup(clientPort: number, serverPort: number): Promise<ProcessOwner | null> {
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
    return { pid, exe: exe.replace(/ \(deleted\)$/, ''), name: path.basename(exe.replace(/ \(deleted\)$/, '')) };
  }
}

/** The owner finder for this OS: Linux reads `/proc`; elsewhere none (macOS and Windows: see README). */
export function processOwnersForThisOs(): ProcessOwners | null {
  return process.platform === 'linux' ? new ProcessOwners() : null;
}
