/**
 * The admin API's bearer token: the config's `adminToken`, else `<home>/admin.token`, made on first
 * start (32 random bytes, mode 0600) so that only the gateway's owner can read it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { newSecret } from './http/bearer.js';

/** File name of the generated token inside the gateway's home. */
export const ADMIN_TOKEN_FILE = 'admin.token';

/** The token to accept, and where it came from (for the start-up message; never the token). */
export async function loadOrCreateAdminToken(home: string, configured: string | null): Promise<{ token: string; source: string }> {
  if (configured !== null) return { token: configured, source: 'the config file' };
  const file = path.join(home, ADMIN_TOKEN_FILE);
  await fs.mkdir(home, { recursive: true, mode: 0o700 });
  // `wx`: two replicas starting at once must not overwrite each other's token.
  await fs.writeFile(file, `${newSecret('opa_')}\n`, { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const token = (await fs.readFile(file, 'utf8')).trim();
  if (token.length < 16) throw new Error(`${file} holds no usable admin token (at least 16 characters): delete it to make a new one`);
  return { token, source: file };
}
