/**
 * The audit log's write-ahead file (`<store>-ahead`): what lets a governed response end before its
 * record's SQLite commit without breaking the crash guarantee.
 *
 * A response's completing bytes wait until its record is durable (`AuditLog.whenDurable`). A SQLite
 * commit of one record costs 20–40 µs here (B-tree pages to the WAL, file locks); appending the same
 * already-serialised record to this file is one write() of about 1 KB. Both land in the page cache
 * without an fsync, so both survive the agent being killed (kill -9) and neither survives a power
 * cut before the next checkpoint: the same durability as `synchronous=NORMAL`, for less time on the
 * response's path. The SQLite commit still follows in the same event-loop turn (group commit).
 *
 * Each line: `<expected seq> TAB <id> TAB <time> TAB <decision> TAB <canonical body> LF`. The body is
 * JSON, so it holds no raw tab or newline. The expected sequence is the one the record gets when the
 * queue commits in order; recovery (`AuditLog.open`) checks each line against the store by sequence
 * and id and writes, chained, only the records the store lacks. A torn last line (killed mid-write)
 * is a record whose response never completed: it is skipped. The file is emptied once everything in
 * it is committed and it has grown past `RESET_BYTES`, and at close.
 */
import fs from 'node:fs';
import type { ChainRow } from './chain-writer.js';

/** Above this size, the file is emptied at the next moment everything in it is committed. */
export const RESET_BYTES = 256 * 1024;

/** A record found in the file: the sequence it was expected to get, and the row. */
export interface AheadRecord {
  readonly seq: number;
  readonly row: ChainRow;
}

/** The path of the write-ahead file of a store file. */
export function writeAheadPath(storeFile: string): string {
  return `${storeFile}-ahead`;
}

/** An open write-ahead file (append only). */
export class WriteAhead {
  private bytes = 0;

  private constructor(
    private fd: number | null,
    readonly file: string,
  ) {
    this.bytes = fs.fstatSync(fd as number).size;
  }

  /** Opens (creates, owner-only) the file for appending; throws what the filesystem says. */
  static open(file: string): WriteAhead {
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o600);
    return new WriteAhead(fd, file);
  }

  /** Bytes in the file now. */
  get size(): number {
    return this.bytes;
  }

  /**
   * Appends `rows` (in queue order; the first gets `firstSeq`) in one write. False when the write
   * failed or was short (full disk): the caller then waits for the SQLite commit instead.
   */
  append(firstSeq: number, rows: readonly ChainRow[]): boolean {
    if (this.fd === null || rows.length === 0) return this.fd !== null;
    let text = '';
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as ChainRow;
      text += `${firstSeq + i}\t${r.id}\t${r.time}\t${r.decision}\t${r.body}\n`;
    }
    const data = Buffer.from(text, 'utf8');
    try {
      const written = fs.writeSync(this.fd, data);
      this.bytes += written;
      // A short write left a torn line: recovery skips it, and the next line must not join it.
      if (written !== data.length) {
        this.cut();
        return false;
      }
      return true;
    } catch {
      return false;
    }
  }

  /** Empties the file (everything in it is committed). */
  reset(): void {
    if (this.fd === null || this.bytes === 0) return;
    this.cut();
  }

  /** Closes the file, keeping its lines (records not committed: the next open writes them back). */
  release(): void {
    if (this.fd === null) return;
    fs.closeSync(this.fd);
    this.fd = null;
  }

  /** Empties the file and closes it. */
  close(): void {
    if (this.fd === null) return;
    this.cut();
    fs.closeSync(this.fd);
    this.fd = null;
  }

  private cut(): void {
    try {
      fs.ftruncateSync(this.fd as number, 0);
      this.bytes = 0;
    } catch {
      // Not emptied (an I/O error): its lines are checked against the store at the next open.
    }
  }
}

/** Parses one line; null for a torn or foreign line. */
function parseLine(line: string): AheadRecord | null {
  const parts = line.split('\t');
  if (parts.length !== 5) return null;
  const [seqText, id, time, decision, body] = parts as [string, string, string, string, string];
  const seq = Number(seqText);
  if (!Number.isSafeInteger(seq) || seq < 1 || id.length === 0) return null;
  try {
    JSON.parse(body);
  } catch {
    return null;
  }
  return { seq, row: { id, time, decision, body } };
}

/** The records in a write-ahead file, in order; torn or unreadable lines are skipped. Empty when there is no file. */
export function readWriteAhead(file: string): AheadRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: AheadRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    const r = parseLine(line);
    if (r !== null) out.push(r);
  }
  return out;
}
