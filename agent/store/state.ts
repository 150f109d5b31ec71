/**
 * The agent's small state beside the audit log: the last good policy, budget and rate counters, and
 * the pinned-host list. Typed accessors over one-row (or tiny) tables; documents are JSON. Each write
 * is one small transaction, made off the request path (on a policy change, a timer, a CONNECT event).
 */
import { policy as policySchema, type Policy } from '../../shared/schema/policy.js';
import type { Db } from './database.js';
import { StoreError, toStoreError } from './errors.js';

/** The last policy that validated, as stored. */
export interface StoredPolicy {
  readonly version: number;
  readonly policy: Policy;
  /** Where it came from: `gateway`, or the policy file's path. */
  readonly source: string;
  readonly storedAt: string;
}

/** A signed policy as the gateway sent it. */
export interface StoredSignedPolicy {
  readonly version: number;
  readonly document: unknown;
  /** Base64 Ed25519 over `signedBytes(version, document)`. */
  readonly signature: string;
  readonly signedAt: string;
}

/** A host whose client refused our CA: tunnelled from then on. */
export interface PinnedHost {
  readonly host: string;
  readonly app: string | null;
  readonly reason: string;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly count: number;
}

/** Budget and rate counters as the gate exported them, with when they were saved. */
export interface StoredCounters {
  readonly document: unknown;
  /** The last audit record whose spend the document includes (records after it are not in it). */
  readonly throughSeq: number;
  readonly savedAt: string;
}

interface PinnedRow {
  host: string;
  app: string | null;
  reason: string;
  first_seen: string;
  last_seen: string;
  count: number;
}

/** Typed access to the state tables of an open store. */
export class StateStore {
  /** `connection` returns the open connection, or throws a StoreError while there is none. */
  constructor(
    private readonly connection: () => Db,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private get db(): Db {
    return this.connection();
  }

  /** Keeps `policy` as the last good one (call only after it validated). */
  saveLastGoodPolicy(policy: Policy, source: string): void {
    this.write('saving the last good policy', () =>
      this.db
        .prepare('INSERT INTO policy (id, version, document, source, stored_at) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version, document = excluded.document, source = excluded.source, stored_at = excluded.stored_at')
        .run(policy.version, JSON.stringify(policy), source, this.now().toISOString()),
    );
  }

  /** The last good policy, validated again on the way out (the file is an edge); null if none. */
  lastGoodPolicy(): StoredPolicy | null {
    const row = this.db.prepare('SELECT version, document, source, stored_at FROM policy WHERE id = 1').get() as
      | { version: number; document: string; source: string; stored_at: string }
      | undefined;
    if (row === undefined) return null;
    const parsed = policySchema.safeParse(parseJson(row.document, 'the stored policy'));
    if (!parsed.success) throw new StoreError('STORE_CORRUPT', `the stored policy no longer validates: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return { version: row.version, policy: parsed.data, source: row.source, storedAt: row.stored_at };
  }

  /** Keeps a signed policy from the gateway as it travelled (call only after its signature verified). */
  saveSignedPolicy(signed: StoredSignedPolicy): void {
    this.write('saving the signed policy', () =>
      this.db
        .prepare(
          'INSERT INTO signed_policy (id, version, document, signature, signed_at, stored_at) VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version, document = excluded.document, signature = excluded.signature, signed_at = excluded.signed_at, stored_at = excluded.stored_at',
        )
        .run(signed.version, JSON.stringify(signed.document), signed.signature, signed.signedAt, this.now().toISOString()),
    );
  }

  /** The signed policy kept last, unverified (the caller checks the signature); null if none. */
  signedPolicy(): StoredSignedPolicy | null {
    const row = this.db.prepare('SELECT version, document, signature, signed_at FROM signed_policy WHERE id = 1').get() as
      | { version: number; document: string; signature: string; signed_at: string }
      | undefined;
    return row === undefined ? null : { version: row.version, document: parseJson(row.document, 'the signed policy'), signature: row.signature, signedAt: row.signed_at };
  }

  /** Forgets the signed policy (the device left its gateway). */
  forgetSignedPolicy(): void {
    this.write('forgetting the signed policy', () => this.db.prepare('DELETE FROM signed_policy').run());
  }

  /**
   * Saves the gate's exported counters (a plain JSON document) that include the spend of every audit
   * record up to `throughSeq`.
   */
  saveCounters(document: unknown, throughSeq: number): void {
    const text = JSON.stringify(document);
    this.write('saving counters', () =>
      this.db
        .prepare(
          'INSERT INTO counters (id, document, through_seq, saved_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET document = excluded.document, through_seq = excluded.through_seq, saved_at = excluded.saved_at',
        )
        .run(text, throughSeq, this.now().toISOString()),
    );
  }

  /** The counters saved last, or null before the first save. */
  loadCounters(): StoredCounters | null {
    const row = this.db.prepare('SELECT document, through_seq, saved_at FROM counters WHERE id = 1').get() as
      | { document: string; through_seq: number; saved_at: string }
      | undefined;
    return row === undefined ? null : { document: parseJson(row.document, 'the stored counters'), throughSeq: row.through_seq, savedAt: row.saved_at };
  }

  /** Notes that a client refused our CA for `host` (first time, or once more). */
  addPinnedHost(host: string, app: string | null, reason: string): void {
    const at = this.now().toISOString();
    this.write('saving a pinned host', () =>
      this.db
        .prepare(
          'INSERT INTO pinned_hosts (host, app, reason, first_seen, last_seen, count) VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT (host) DO UPDATE SET app = coalesce(excluded.app, app), reason = excluded.reason, last_seen = excluded.last_seen, count = count + 1',
        )
        .run(host.toLowerCase(), app, reason, at, at),
    );
  }

  /** Forgets a pinned host (an administrator approved interception again). */
  removePinnedHost(host: string): boolean {
    return this.write('removing a pinned host', () => this.db.prepare('DELETE FROM pinned_hosts WHERE host = ?').run(host.toLowerCase()).changes > 0);
  }

  /** Every pinned host, by name. */
  pinnedHosts(): PinnedHost[] {
    const rows = this.db.prepare('SELECT host, app, reason, first_seen, last_seen, count FROM pinned_hosts ORDER BY host').all() as PinnedRow[];
    return rows.map((r) => ({ host: r.host, app: r.app, reason: r.reason, firstSeen: r.first_seen, lastSeen: r.last_seen, count: r.count }));
  }

  /** A user setting (the tray's picked virtual key), or null when unset. */
  setting(name: string): string | null {
    const row = this.db.prepare('SELECT value FROM settings WHERE name = ?').get(name) as { value: string } | undefined;
    return row?.value ?? null;
  }

  /** Saves a user setting; null removes it. */
  saveSetting(name: string, value: string | null): void {
    this.write(`saving the setting ${name}`, () => {
      if (value === null) this.db.prepare('DELETE FROM settings WHERE name = ?').run(name);
      else this.db.prepare('INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at').run(name, value, this.now().toISOString());
    });
  }

  private write<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw toStoreError(err, what);
    }
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new StoreError('STORE_CORRUPT', `${what} is not valid JSON: ${(err as Error).message}`);
  }
}
