/**
 * Which process opened a connection to the agent (issue 14.3, "apps seen in traffic"). Off the hot
 * path: the lookup starts when a connection is accepted and its answer is attached to the
 * connection when it arrives (a request recorded before then says nothing). Never fatal: a process
 * the agent may not inspect, or an OS that does not tell, is unknown. Bounded: at most
 * `MAX_IN_FLIGHT` lookups run at once; a connection accepted beyond that stays unknown rather than
 * queue work behind a burst. How each OS tells is an `OwnerLookup` (see `owner-lookup.ts`).
 */
import { EventEmitter } from 'node:events';
import { runPlan } from '../commands.js';
import { LsofLookup } from './lsof-lookup.js';
import { ProcLookup } from './proc-lookup.js';
import { WindowsLookup } from './windows-lookup.js';
import type { OwnerLookup, ProcessOwner } from './owner-lookup.js';

export type { ProcessOwner } from './owner-lookup.js';

/** Looked-up owners, filled in when the lookup ends. */
export interface OwnerSlot {
  current: ProcessOwner | null;
  /** Resolves once the lookup ended (`current` is set by then); at once when none ran. */
  readonly ready: Promise<ProcessOwner | null>;
}

/** Lookups running at once, at most. */
const MAX_IN_FLIGHT = 8;

/** Finds connection owners with one OS's lookup. Emits `found` (owner) after each lookup that found one. */
export class ProcessOwners extends EventEmitter {
  private inFlight = 0;

  constructor(private readonly owners: OwnerLookup = new ProcLookup()) {
    super();
  }

  /** Starts a lookup for a loopback client at `clientPort` talking to `serverPort`; the slot fills in when found. */
  watch(clientPort: number, serverPort: number): OwnerSlot {
    if (this.inFlight >= MAX_IN_FLIGHT) return { current: null, ready: Promise.resolve(null) };
    this.inFlight++;
    const slot: { current: ProcessOwner | null; ready: Promise<ProcessOwner | null> } = { current: null, ready: Promise.resolve(null) };
    slot.ready = this.lookup(clientPort, serverPort).then((owner) => {
      this.inFlight--;
      slot.current = owner;
      if (owner !== null) this.emit('found', owner);
      return owner;
    });
    return slot;
  }

  /** The process holding the client end of that connection, or null (never rejects). */
  lookup(clientPort: number, serverPort: number): Promise<ProcessOwner | null> {
    return this.owners.find(clientPort, serverPort).catch(() => null);
  }
}

/** How each OS tells (a registry: an OS missing here does not tell). */
const LOOKUPS: Partial<Record<NodeJS.Platform, () => OwnerLookup>> = {
  linux: () => new ProcLookup(),
  darwin: () => new LsofLookup((plan) => runPlan(plan)),
  win32: () => new WindowsLookup((plan) => runPlan(plan)),
};

/** The owner finder for this OS, or null where none tells. */
export function processOwnersForThisOs(platform: NodeJS.Platform = process.platform): ProcessOwners | null {
  const make = LOOKUPS[platform];
  return make === undefined ? null : new ProcessOwners(make());
}
