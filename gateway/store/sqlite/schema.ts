/**
 * The gateway's SQLite schema, versioned by `PRAGMA user_version` (append-only migrations). Audit
 * records keep their full JSON in `body` and copy the columns the admin API filters on.
 */
import { AUDIT_FILTER_INDEXES } from '../audit-sql.js';

/** Migrations in order; index + 1 is the schema version. */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE policies (
    version INTEGER PRIMARY KEY,
    document TEXT NOT NULL,
    signature TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    origin TEXT NOT NULL
  );
  CREATE TABLE enrollment_tokens (
    token_sha256 TEXT PRIMARY KEY,
    team TEXT,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    credential_sha256 TEXT NOT NULL UNIQUE,
    hostname TEXT NOT NULL,
    os_user TEXT NOT NULL,
    os TEXT NOT NULL,
    arch TEXT NOT NULL,
    agent_version TEXT NOT NULL,
    team TEXT,
    enrolled_at TEXT NOT NULL,
    last_seen TEXT,
    online INTEGER NOT NULL DEFAULT 0,
    policy_version INTEGER,
    status TEXT,
    revoked INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE device_chain (
    device_id TEXT PRIMARY KEY,
    ack_seq INTEGER NOT NULL,
    ack_hash TEXT NOT NULL,
    problem TEXT
  );
  CREATE TABLE audit (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL UNIQUE,
    device_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    time TEXT NOT NULL,
    principal TEXT,
    decision TEXT NOT NULL,
    provider TEXT,
    model TEXT,
    cost_usd REAL,
    body TEXT NOT NULL
  );
  CREATE INDEX audit_device_seq ON audit (device_id, seq);
  CREATE INDEX audit_time ON audit (time);
  CREATE TABLE usage (
    device_id TEXT NOT NULL,
    budget_id TEXT NOT NULL,
    period TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    spent_usd REAL NOT NULL,
    PRIMARY KEY (budget_id, period, window_start, device_id)
  );
  CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE commands (
    id TEXT PRIMARY KEY,
    issued_at TEXT NOT NULL,
    scope TEXT NOT NULL,
    scope_key TEXT NOT NULL,
    action TEXT NOT NULL,
    kind TEXT NOT NULL
  );
  CREATE TABLE command_results (
    command_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    ok INTEGER NOT NULL,
    error TEXT,
    at TEXT NOT NULL,
    PRIMARY KEY (command_id, device_id)
  );
  CREATE TABLE admin_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
  );
  `,
  `
  CREATE TABLE budget_grants (
    budget_id TEXT NOT NULL,
    period TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    device_id TEXT NOT NULL,
    cap_usd REAL NOT NULL,
    PRIMARY KEY (budget_id, period, window_start, device_id)
  );
  `,
  `
  ALTER TABLE admin_events ADD COLUMN who TEXT NOT NULL DEFAULT 'admin token';
  ALTER TABLE admin_events ADD COLUMN before_state TEXT;
  ALTER TABLE admin_events ADD COLUMN after_state TEXT;
  CREATE TABLE console_sessions (
    id_sha256 TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    roles TEXT NOT NULL,
    teams TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    via TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
  );
  CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
  `,
  AUDIT_FILTER_INDEXES,
  // The app and the rules fired, as filters: the app as a column, each fired rule as a row.
  `
  ALTER TABLE audit ADD COLUMN app TEXT;
  UPDATE audit SET app = json_extract(body, '$.app');
  CREATE INDEX audit_app_cursor ON audit (app, cursor);
  CREATE TABLE audit_rules (rule_id TEXT NOT NULL, cursor INTEGER NOT NULL, PRIMARY KEY (rule_id, cursor)) WITHOUT ROWID;
  INSERT OR IGNORE INTO audit_rules (rule_id, cursor) SELECT json_extract(r.value, '$.id'), a.cursor FROM audit a, json_each(a.body, '$.rules') r;
  `,
  `
  ALTER TABLE enrollment_tokens ADD COLUMN user_name TEXT;
  ALTER TABLE enrollment_tokens ADD COLUMN code_challenge TEXT;
  ALTER TABLE devices ADD COLUMN user_name TEXT;
  `,
  // The record's user (the OS user, or user:<email> for a signed-in device) as a filter.
  `
  ALTER TABLE audit ADD COLUMN user_name TEXT;
  UPDATE audit SET user_name = json_extract(body, '$.user');
  CREATE INDEX audit_user_cursor ON audit (user_name, cursor);
  `,
];
