/**
 * The canonical serialisation of an audit record and its hash: the chain that `outpost audit verify`
 * walks, and that the central gateway can recompute from an uploaded record.
 *
 * Canonical form: JSON with no whitespace, keys in a fixed order (`seq`, `prevHash`, then the
 * `auditEntry` schema's field order; fired rules in the `firedRule` schema's order; headers sorted by
 * name). `hash = hex(SHA-256(canonical))`. The first record's `prevHash` is 64 zeros (`GENESIS_HASH`).
 * Field order comes from the zod schemas themselves, so a field added to the schema is hashed without
 * touching this file.
 */
import { hash } from 'node:crypto';
import { auditEntry, firedRule, type AuditEntry, type AuditRecord, type FiredRule } from '../schema/audit.js';

/** `prevHash` of the first record ever written. */
export const GENESIS_HASH = '0'.repeat(64);

const ENTRY_KEYS = Object.keys(auditEntry.shape) as ReadonlyArray<keyof AuditEntry>;
/** Fields added after records were first chained: left out when absent (older records hash as they did). */
const OPTIONAL_KEYS: ReadonlySet<keyof AuditEntry> = new Set(ENTRY_KEYS.filter((k) => auditEntry.shape[k].safeParse(undefined).success));
const RULE_KEYS = Object.keys(firedRule.shape) as ReadonlyArray<keyof FiredRule>;
type ProcessField = NonNullable<AuditEntry['process']>;
const PROCESS_KEYS = Object.keys(auditEntry.shape.process.unwrap().shape) as ReadonlyArray<keyof ProcessField>;

// Hot path: the key prefixes (`{"id":`, `,"time":`, …) are built once; each value is one JSON.stringify.
const ENTRY_PREFIX = ENTRY_KEYS.map((k, i) => `${i === 0 ? '{' : ','}${JSON.stringify(k)}:`);
const RULE_PREFIX = RULE_KEYS.map((k, i) => `${i === 0 ? '{' : ','}${JSON.stringify(k)}:`);

function canonicalRules(rules: readonly FiredRule[]): string {
  if (rules.length === 0) return '[]';
  let out = '[';
  for (let r = 0; r < rules.length; r++) {
    const rule = rules[r] as FiredRule;
    if (r > 0) out += ',';
    for (let i = 0; i < RULE_KEYS.length; i++) out += `${RULE_PREFIX[i] as string}${JSON.stringify(rule[RULE_KEYS[i] as keyof FiredRule] ?? null)}`;
    out += '}';
  }
  return `${out}]`;
}

function canonicalProcess(p: ProcessField): string {
  let out = '{';
  for (let i = 0; i < PROCESS_KEYS.length; i++) out += `${i === 0 ? '' : ','}${JSON.stringify(PROCESS_KEYS[i])}:${JSON.stringify(p[PROCESS_KEYS[i] as keyof ProcessField])}`;
  return `${out}}`;
}

function canonicalHeaders(headers: Readonly<Record<string, string>>): string {
  const names = Object.keys(headers).sort();
  let out = '{';
  for (let i = 0; i < names.length; i++) {
    const n = names[i] as string;
    out += `${i === 0 ? '' : ','}${JSON.stringify(n)}:${JSON.stringify(headers[n])}`;
  }
  return `${out}}`;
}

/** The entry's fields in schema order, as the body stored in the database. */
export function canonicalEntry(entry: AuditEntry): string {
  let out = '';
  for (let i = 0; i < ENTRY_KEYS.length; i++) {
    const k = ENTRY_KEYS[i] as keyof AuditEntry;
    if (entry[k] === undefined && OPTIONAL_KEYS.has(k)) continue;
    // Otherwise `undefined` cannot occur for a validated entry; null keeps the key present either way.
    const value = k === 'rules' ? canonicalRules(entry.rules) : k === 'headers' ? canonicalHeaders(entry.headers) : k === 'process' && entry.process !== undefined ? canonicalProcess(entry.process) : JSON.stringify(entry[k] ?? null);
    out += `${ENTRY_PREFIX[i] as string}${value}`;
  }
  return `${out}}`;
}

/**
 * The hashed form of a record: `{"seq":…,"prevHash":…,` + the canonical entry's fields + `}`.
 * `body` is `canonicalEntry(entry)`, passed in so the hot path serialises once.
 */
export function hashRecord(seq: number, prevHash: string, body: string): string {
  // One-shot `crypto.hash`: about half the cost of a Hash object per record.
  return hash('sha256', `{"seq":${seq},"prevHash":${JSON.stringify(prevHash)},${body.slice(1)}`, 'hex');
}

/** Recomputes a full record's hash from its fields (what a verifier outside the agent does). */
export function recordHash(record: AuditRecord): string {
  const { seq, prevHash, hash: _hash, ...entry } = record;
  return hashRecord(seq, prevHash, canonicalEntry(entry));
}
