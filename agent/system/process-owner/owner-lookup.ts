/**
 * The seam between "which process opened this connection" and each OS's way to tell: Linux reads
 * `/proc` (`proc-lookup.ts`); macOS asks `lsof` and `ps` (`lsof-lookup.ts`); Windows asks
 * `Get-NetTCPConnection` and `Get-Process` (`windows-lookup.ts`). Each finds the owner of the
 * client end of one loopback connection, or says it does not know (null): never throws for a
 * process it may not inspect.
 */
import path from 'node:path';

/** The process behind a connection. */
export interface ProcessOwner {
  readonly pid: number;
  /** Its executable (a full path where the OS tells, else the process name). */
  readonly exe: string;
  /** The executable's file name, as people name the app. */
  readonly name: string;
}

/** One OS's way to find the owner of a loopback client at `clientPort` talking to `serverPort`. */
export interface OwnerLookup {
  find(clientPort: number, serverPort: number): Promise<ProcessOwner | null>;
}

/** The owner record for `pid` running `exe` (either path separator: Windows paths are read on any OS). */
export function ownerOf(pid: number, exe: string): ProcessOwner {
  const clean = exe.replace(/ \(deleted\)$/, '');
  return { pid, exe: clean, name: clean.split(/[\\/]/).at(-1) ?? path.basename(clean) };
}
