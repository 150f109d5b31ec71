/**
 * macOS (and any system with `lsof`): `lsof -nP -iTCP:PORT -sTCP:ESTABLISHED -Fpcn` lists the
 * processes with a TCP socket on the client's port, in lsof's field format (`p` pid, `c` command,
 * `f` fd, `n` `local->remote`); the one whose socket goes from the client port to the agent's is the
 * owner, and `ps -o comm= -p PID` gives its executable's path. The parsers are pure and tested on
 * lsof's and ps's output; the lookup runs only where the OS is macOS (not on this Linux machine).
 */
import type { CommandPlan } from '../commands.js';
import type { InventoryRunner } from '../inventory/apps.js';
import { ownerOf, type OwnerLookup, type ProcessOwner } from './owner-lookup.js';

/** The lsof command for sockets on `clientPort`. */
export function lsofPlan(clientPort: number): CommandPlan {
  return { command: 'lsof', args: ['-nP', `-iTCP:${clientPort}`, '-sTCP:ESTABLISHED', '-Fpcn'] };
}

/** The ps command for `pid`'s executable. */
export function psExePlan(pid: number): CommandPlan {
  return { command: 'ps', args: ['-o', 'comm=', '-p', String(pid)] };
}

/** From `lsof -F pcn` output: the pid and command holding the socket from `clientPort` to `serverPort`, or null. */
export function parseLsofFields(stdout: string, clientPort: number, serverPort: number): { pid: number; command: string } | null {
  let pid: number | null = null;
  let command = '';
  for (const line of stdout.split(/\r?\n/)) {
    const field = line[0];
    const value = line.slice(1);
    if (field === 'p') {
      pid = Number(value);
      command = '';
    } else if (field === 'c') command = value;
    else if (field === 'n' && pid !== null && Number.isInteger(pid)) {
      // `127.0.0.1:52344->127.0.0.1:8080` or `[::1]:52344->[::1]:8080`
      const ends = /:(\d+)->.*:(\d+)$/.exec(value);
      if (ends !== null && Number(ends[1]) === clientPort && Number(ends[2]) === serverPort) return { pid, command };
    }
  }
  return null;
}

/** From `ps -o comm=`: the executable path, or null when ps printed nothing. */
export function parsePsComm(stdout: string): string | null {
  const exe = stdout.trim();
  return exe === '' ? null : exe;
}

/** Finds owners by asking lsof and ps. */
export class LsofLookup implements OwnerLookup {
  constructor(private readonly run: InventoryRunner) {}

  async find(clientPort: number, serverPort: number): Promise<ProcessOwner | null> {
    const listed = await this.run(lsofPlan(clientPort));
    const held = parseLsofFields(listed.stdout, clientPort, serverPort);
    if (held === null) return null;
    const ps = await this.run(psExePlan(held.pid));
    return ownerOf(held.pid, (ps.code === 0 ? parsePsComm(ps.stdout) : null) ?? held.command);
  }
}
