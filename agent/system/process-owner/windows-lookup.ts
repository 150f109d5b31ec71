/**
 * Windows: one PowerShell command asks `Get-NetTCPConnection` for the connection from the client's
 * port to the agent's and `Get-Process` for its owning process's path, as JSON. A process the
 * agent may not inspect (elevated, another session) has no path: its name stands in. The parser is
 * pure and tested on PowerShell's output; the lookup runs only on Windows (not on this machine).
 */
import { z } from 'zod';
import type { CommandPlan } from '../commands.js';
import type { InventoryRunner } from '../inventory/apps.js';
import { ownerOf, type OwnerLookup, type ProcessOwner } from './owner-lookup.js';

/** The PowerShell command for the owner of the connection from `clientPort` to `serverPort`. */
export function netTcpPlan(clientPort: number, serverPort: number): CommandPlan {
  const script = [
    `Get-NetTCPConnection -LocalPort ${clientPort} -RemotePort ${serverPort} -State Established -ErrorAction SilentlyContinue`,
    'Select-Object -First 1',
    'ForEach-Object { $p = Get-Process -Id $_.OwningProcess -ErrorAction SilentlyContinue; [pscustomobject]@{ pid = $_.OwningProcess; path = $p.Path; name = $p.ProcessName } }',
    'ConvertTo-Json -Compress',
  ].join(' | ');
  return { command: 'powershell.exe', args: ['-NoProfile', '-NonInteractive', '-Command', script] };
}

const owned = z.object({ pid: z.number().int().positive(), path: z.string().min(1).nullish(), name: z.string().min(1).nullish() });

/** From that command's output: the owner, or null when none was listed or the output is not what it prints. */
export function parseNetTcpOwner(stdout: string): ProcessOwner | null {
  const text = stdout.trim();
  if (text === '') return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  // ConvertTo-Json prints one object for one result, an array for several.
  const parsed = owned.safeParse(Array.isArray(json) ? json[0] : json);
  if (!parsed.success) return null;
  const exe = parsed.data.path ?? (parsed.data.name == null ? null : `${parsed.data.name}.exe`);
  return exe === null ? null : ownerOf(parsed.data.pid, exe);
}

/** Finds owners by asking PowerShell. */
export class WindowsLookup implements OwnerLookup {
  constructor(private readonly run: InventoryRunner) {}

  async find(clientPort: number, serverPort: number): Promise<ProcessOwner | null> {
    const res = await this.run(netTcpPlan(clientPort, serverPort));
    return res.code === 0 ? parseNetTcpOwner(res.stdout) : null;
  }
}
