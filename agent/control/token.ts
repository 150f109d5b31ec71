/**
 * The control API's bearer token: random per home folder, in `<home>/control.token`, readable only
 * by the user (0600). Clients (tray, CLI) read the file; nothing else can.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** Reads the token, creating it (0600) on first use. */
export async function ensureControlToken(home: string): Promise<string> {
  const file = path.join(home, 'control.token');
  try {
    const existing = (await fs.readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = crypto.randomBytes(32).toString('base64url');
  await fs.writeFile(file, `${token}\n`, { mode: 0o600 });
  await fs.chmod(file, 0o600);
  return token;
}

/** Reads an existing token (for clients); null when the agent never ran with this home. */
export async function readControlToken(home: string): Promise<string | null> {
  try {
    return (await fs.readFile(path.join(home, 'control.token'), 'utf8')).trim();
  } catch {
    return null;
  }
}

/** Constant-time comparison of an `Authorization` header with the token. */
export function authorized(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7));
  const expected = Buffer.from(token);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}
