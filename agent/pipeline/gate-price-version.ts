/**
 * The version of the installed price database, recorded on every priced audit record. The package
 * embeds its price data, so its version names the data; it is read once from the installed
 * package's `package.json` (the package does not export that file, so it is found beside its entry).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const PACKAGE = '@pydantic/genai-prices';

/** `@pydantic/genai-prices@X.Y.Z`, or `@pydantic/genai-prices@unknown` if it cannot be read. */
export function priceTableVersion(): string {
  try {
    const entry = createRequire(import.meta.url).resolve(PACKAGE);
    let dir = path.dirname(entry);
    for (let i = 0; i < 4; i++) {
      const file = path.join(dir, 'package.json');
      if (fs.existsSync(file)) {
        const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === PACKAGE && typeof pkg.version === 'string') return `${PACKAGE}@${pkg.version}`;
      }
      dir = path.dirname(dir);
    }
  } catch {
    // fall through
  }
  return `${PACKAGE}@unknown`;
}
