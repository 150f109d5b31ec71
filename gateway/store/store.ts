/**
 * The gateway's storage, behind one interface: SQLite (embedded, the default) and PostgreSQL (for
 * several replicas). Everything the admin API and the agent hub keep goes through it, and the changes
 * every replica must hear about (a policy, a command, a budget window, a revoked device) come back
 * out of `onChange`, whichever replica wrote them.
 */
import type { AuditRecord } from '../../shared/schema/audit.js';
import type { CommandAction, CommandScope, DeviceFacts, DeviceStatus, SpendWindow } from '../../shared/schema/protocol.js';
import type { Period } from '../../shared/schema/common.js';
import type { ConsoleRole, SignInMethod } from '../../shared/schema/console.js';
import type { AuditFilter, SpendGrouping } from './queries.js';
import type { FleetWindow, GrantWindow, WindowKey } from './fleet-windows.js';

export type { FleetWindow } from './fleet-windows.js';

/** One signed policy version. */
export interface PolicyVersion {
  readonly version: number;
  readonly document: unknown;
  readonly signature: string;
  readonly signedAt: string;
  /** What made it: `put`, or `rollback to N`. */
  readonly origin: string;
}

/** An enrollment token as stored (only the token's hash). */
export interface EnrollmentTokenRow {
  readonly tokenSha256: string;
  readonly team: string | null;
  /** The person a single sign-on enrollment binds the device to (`user:<this>`); null for an administrator's token. */
  readonly user: string | null;
  /** S256 of the verifier the enrolling agent must show (single sign-on: the code crossed a browser); null for none. */
  readonly codeChallenge: string | null;
  readonly expiresAt: string;
  readonly createdAt: string;
}

/** A device as the admin API lists it. */
export interface DeviceRow {
  readonly id: string;
  readonly hostname: string;
  readonly osUser: string;
  readonly os: string;
  readonly arch: string;
  readonly agentVersion: string;
  readonly team: string | null;
  /** The person the device was enrolled by through single sign-on; null for a token enrollment. */
  readonly user: string | null;
  readonly enrolledAt: string;
  readonly lastSeen: string | null;
  readonly online: boolean;
  readonly policyVersion: number | null;
  readonly status: DeviceStatus | null;
  readonly revoked: boolean;
  /** The highest audit sequence stored contiguously. */
  readonly ackSeq: number;
  /** Where the device's uploaded hash chain first failed to verify; null while intact. */
  readonly chainProblem: string | null;
}

/** A new device at enrollment. */
export interface NewDevice {
  readonly id: string;
  readonly credentialSha256: string;
  readonly facts: DeviceFacts;
  readonly team: string | null;
  readonly user: string | null;
  readonly enrolledAt: string;
}

/** A stored audit record with where it came from. */
export interface StoredRecord {
  /** The gateway's own row number: the keyset cursor. */
  readonly cursor: number;
  readonly deviceId: string;
  readonly record: AuditRecord;
}

/** One page of an audit query. */
export interface AuditPage {
  readonly records: readonly StoredRecord[];
  /** Pass back as `cursor` for the next (older) page; null at the end. */
  readonly nextCursor: number | null;
}

/** Spend of one key (principal, virtual key or team) over the queried time. */
export interface SpendRow {
  readonly key: string;
  readonly requests: number;
  readonly costUsd: number;
}


/** An administrator's command, as issued. */
export interface CommandRow {
  readonly id: string;
  readonly issuedAt: string;
  readonly scope: CommandScope;
  readonly action: CommandAction;
}

/** A device's answer to a command. */
export interface CommandResultRow {
  readonly deviceId: string;
  readonly ok: boolean;
  readonly error: string | null;
  readonly at: string;
}

/** One entry of the admin audit trail. */
export interface AdminEvent {
  readonly time: string;
  /** Who did it: a signed-in user's email, or "admin token" (scripts and break-glass). */
  readonly who: string;
  readonly action: string;
  /** What was done, by allow-list: never a token or key. */
  readonly detail: Record<string, unknown>;
  /** The state the action changed, before and after it (null where there is none). */
  readonly before: unknown;
  readonly after: unknown;
}

/** A stored admin audit entry with its keyset cursor. */
export interface StoredAdminEvent extends AdminEvent {
  readonly id: number;
}

/** One page of the admin audit trail, newest first. */
export interface AdminEventPage {
  readonly events: readonly StoredAdminEvent[];
  /** Pass back as `cursor` for the next (older) page; null at the end. */
  readonly nextCursor: number | null;
}

/** A console session as stored: only the hash of the cookie's value. */
export interface ConsoleSessionRow {
  readonly idSha256: string;
  readonly user: string;
  readonly roles: readonly ConsoleRole[];
  readonly teams: readonly string[];
  readonly csrfToken: string;
  readonly via: SignInMethod;
  readonly createdAt: string;
  readonly expiresAt: string;
}

/** What changed, for every replica's agent hub. */
export type StoreChange =
  | { readonly kind: 'policy'; readonly version: number }
  | { readonly kind: 'command'; readonly id: string }
  | { readonly kind: 'budget'; readonly windows: ReadonlyArray<{ readonly id: string; readonly period: Period; readonly windowStart: number }> }
  /** An administrator decided on an inventory item or changed the pending setting. */
  | { readonly kind: 'inventory' };

/** Result of storing a batch. */
export interface BatchResult {
  /** Highest contiguous sequence stored for the device. */
  readonly ackSeq: number;
  /** Records new to the store (a retry stores none). */
  readonly inserted: number;
  /** Set when the chain failed to verify in this batch. */
  readonly chainProblem: string | null;
}

/** The gateway's storage. Every method may throw a `GatewayStoreError`. */
export interface GatewayStore {
  readonly kind: 'sqlite' | 'postgres';

  /** Adds the next policy version; `sign` receives the version number the store assigned. */
  addPolicy(sign: (version: number) => Omit<PolicyVersion, 'version' | 'origin'>, origin: string): Promise<PolicyVersion>;
  latestPolicy(): Promise<PolicyVersion | null>;
  policyVersion(version: number): Promise<PolicyVersion | null>;
  /** Newest first, without documents. */
  listPolicyVersions(): Promise<ReadonlyArray<Omit<PolicyVersion, 'document' | 'signature'>>>;

  addEnrollmentToken(token: EnrollmentTokenRow): Promise<void>;
  /** Uses a token once: the row is deleted; null when unknown or expired. */
  consumeEnrollmentToken(tokenSha256: string, now: Date): Promise<EnrollmentTokenRow | null>;

  addDevice(device: NewDevice): Promise<void>;
  deviceByCredential(credentialSha256: string): Promise<DeviceRow | null>;
  device(id: string): Promise<DeviceRow | null>;
  listDevices(): Promise<readonly DeviceRow[]>;
  /** The device connected (or reported): online, seen now, what it runs. */
  deviceConnected(id: string, seen: { at: string; agentVersion: string; policyVersion: number | null; status: DeviceStatus }): Promise<void>;
  deviceStatus(id: string, at: string, status: DeviceStatus, policyVersion?: number | null): Promise<void>;
  deviceDisconnected(id: string, at: string): Promise<void>;
  revokeDevice(id: string): Promise<boolean>;

  /** Stores records idempotently by id and advances the device's contiguous, verified chain. */
  storeAuditBatch(deviceId: string, records: readonly AuditRecord[]): Promise<BatchResult>;
  auditAck(deviceId: string): Promise<number>;
  queryAudit(filter: AuditFilter, limit: number, cursor: number | null): Promise<AuditPage>;
  spend(grouping: SpendGrouping, since: string | null, until: string | null): Promise<readonly SpendRow[]>;
  /** Spend per UTC day and key. */
  spendByDay(grouping: SpendGrouping, since: string | null, until: string | null): Promise<ReadonlyArray<SpendRow & { readonly day: string }>>;
  /** Records per decision since `since` (ISO time). */
  decisionCounts(since: string): Promise<Readonly<Record<string, number>>>;
  /** The `limit` rules that fired in the most records since `since` (ISO time), most first. */
  ruleCounts(since: string, limit: number): Promise<ReadonlyArray<{ readonly id: string; readonly count: number }>>;
  /** Deletes records older than `before`; returns how many. */
  pruneAudit(before: string): Promise<number>;

  /** Records a device's cumulative spend per window; returns the windows whose total changed. */
  reportUsage(deviceId: string, windows: readonly SpendWindow[]): Promise<ReadonlyArray<{ id: string; period: Period; windowStart: number }>>;
  /**
   * Sets the device's grant in a window to `decide(window)`, reading and writing the window's grants
   * atomically (one writer at a time, across replicas); answers the grant.
   */
  topUpGrant(deviceId: string, key: WindowKey, limitUsd: number, decide: (w: GrantWindow) => number): Promise<number>;
  /** Fleet spend of the windows starting at or after `sinceMs` (current windows). */
  fleetWindows(keys: ReadonlyArray<{ id: string; period: Period; windowStart: number }> | 'all', sinceMs: number): Promise<readonly FleetWindow[]>;

  getSetting(name: string): Promise<unknown>;
  setSetting(name: string, value: unknown): Promise<void>;

  addCommand(command: CommandRow): Promise<void>;
  command(id: string): Promise<CommandRow | null>;
  /** Commands still in force: every `revoke-virtual-key`, and the newest `kill-switch` of each scope. */
  commandsInForce(): Promise<readonly CommandRow[]>;
  commandResult(id: string, deviceId: string, ok: boolean, error: string | null, at: string): Promise<void>;
  /** What each device answered to a command. */
  commandResults(id: string): Promise<readonly CommandResultRow[]>;

  addAdminEvent(event: AdminEvent): Promise<void>;
  /** Newest first, `limit` entries older than `cursor` (null: from the newest). */
  listAdminEvents(limit: number, cursor: number | null): Promise<AdminEventPage>;

  /** Stores a new console session (and forgets the expired ones). */
  addSession(session: ConsoleSessionRow): Promise<void>;
  /** The session whose cookie hashes to `idSha256`; null when unknown or expired at `now`. */
  session(idSha256: string, now: Date): Promise<ConsoleSessionRow | null>;
  /** Ends a session; false when there was none. */
  deleteSession(idSha256: string): Promise<boolean>;

  /** Tells every replica (this one included) that something changed. */
  publish(change: StoreChange): Promise<void>;
  /** Listens for changes from any replica; returns the unsubscribe. */
  onChange(listener: (change: StoreChange) => void): () => void;

  close(): Promise<void>;
}
