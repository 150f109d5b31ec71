/**
 * Versioned schema migrations of the agent's store. `PRAGMA user_version` holds the version applied;
 * each migration runs once, in its own transaction, in order. Append only: never edit a migration
 * that has shipped, add the next one.
 */

/** One schema step. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'audit chain, chain anchors, spool cursor, counters, last good policy, pinned hosts',
    sql: `
      -- One row per audit record. body is the canonical JSON of the AuditEntry (shared/audit/canonical.ts);
      -- hash covers seq, prev_hash and body. The columns beside body serve queries (time range, tail).
      CREATE TABLE audit (
        seq       INTEGER PRIMARY KEY,
        id        TEXT NOT NULL,
        time      TEXT NOT NULL,
        decision  TEXT NOT NULL,
        body      TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash      TEXT NOT NULL,
        size      INTEGER NOT NULL -- bytes of body, for the spool cap without reading bodies
      );
      CREATE INDEX audit_time ON audit (time);

      -- The chain's ends: base = the last record pruned by retention (genesis at first), head = the
      -- last record written. Updated in the same transaction as the rows, so deleting the newest row
      -- or the oldest ones is caught by verify.
      CREATE TABLE chain (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        base_seq  INTEGER NOT NULL,
        base_hash TEXT NOT NULL,
        head_seq  INTEGER NOT NULL,
        head_hash TEXT NOT NULL
      );
      INSERT INTO chain VALUES (1, 0, '${'0'.repeat(64)}', 0, '${'0'.repeat(64)}');

      -- Upload spool: the highest sequence the central gateway acknowledged (audit.ack).
      CREATE TABLE spool (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        acked_seq  INTEGER NOT NULL,
        acked_at   TEXT
      );
      INSERT INTO spool VALUES (1, 0, NULL);

      -- Budget and rate counters, as the gate exports them (plain JSON). through_seq: the last audit
      -- record whose spend the document includes; records after it are replayed after a crash.
      CREATE TABLE counters (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        document    TEXT NOT NULL,
        through_seq INTEGER NOT NULL,
        saved_at    TEXT NOT NULL
      );

      -- The last policy that validated (enforced offline and after a restart).
      CREATE TABLE policy (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        version   INTEGER NOT NULL,
        document  TEXT NOT NULL,
        source    TEXT NOT NULL,
        stored_at TEXT NOT NULL
      );

      -- Hosts whose clients refused our CA (pinned apps): tunnelled from then on, and reported.
      CREATE TABLE pinned_hosts (
        host       TEXT PRIMARY KEY,
        app        TEXT,
        reason     TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen  TEXT NOT NULL,
        count      INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: 'the last signed policy from the central gateway, with its signature',
    sql: `
      -- The newest signed policy accepted from the gateway, exactly as it travelled (document JSON
      -- and signature), so that it is verified again against the pinned key at every start.
      CREATE TABLE signed_policy (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        version   INTEGER NOT NULL,
        document  TEXT NOT NULL,
        signature TEXT NOT NULL,
        signed_at TEXT NOT NULL,
        stored_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    description: "the user's settings kept across restarts (the virtual key picked in the tray)",
    sql: `
      CREATE TABLE settings (
        name       TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
    `,
  },
];

/** The schema version this agent writes. */
export const SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
