/**
 * The console's static site at `/console/` (issue 17.1): the page bundle built by
 * `scripts/build-app-page.mjs` into `dist/console/` (no CDN: it works on an air-gapped network),
 * served with a strict Content-Security-Policy (no inline script or style, no eval, nothing from
 * elsewhere) and cache headers: the HTML always revalidates, and the assets, named by a hash of their
 * content at build time (listed in `assets.json`), are immutable for a year. The page signs
 * in through `/console/sign-in` and calls the admin API with the session cookie (gateway/README.md,
 * "Console sessions").
 */
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The CSP of every console page. */
export const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const TYPES: Readonly<Record<string, string>> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };
/** `assets.json`, written by the build beside index.html: the hashed asset names. */
const assetList = z.strictObject({ assets: z.array(z.string().regex(/^[\w-]+-[0-9a-f]{12}\.(?:js|css|svg)$/)) });

/** A content-hashed asset never changes under its name: browsers keep it a year without asking. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Where the built site is: dist/console beside dist/gateway (or, run from the sources, the repo's dist/console). */
export function consoleDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const built = path.resolve(here, '..', 'console');
  return existsSync(path.join(built, 'assets.json')) ? built : path.resolve(here, '..', 'dist', 'console');
}

const CONSOLE_DIR = consoleDir();

/** The asset names built into `dir` (none when the console is not built: the page then says so). */
export function consoleAssets(dir: string): ReadonlySet<string> {
  try {
    return new Set(assetList.parse(JSON.parse(readFileSync(path.join(dir, 'assets.json'), 'utf8'))).assets);
  } catch {
    return new Set();
  }
}

const ASSETS = consoleAssets(CONSOLE_DIR);

/** True for the paths the site serves (the sign-in and auth routes are the console-auth router's). */
export function isConsolePage(pathname: string): boolean {
  return pathname === '/console' || pathname === '/console/' || (pathname.startsWith('/console/assets/') && ASSETS.has(pathname.slice('/console/assets/'.length)));
}

/** Serves one console path from `dir`. */
export async function serveConsole(req: http.IncomingMessage, res: http.ServerResponse, pathname: string, dir = CONSOLE_DIR): Promise<void> {
  if (pathname === '/console') {
    res.writeHead(308, { location: '/console/' });
    res.end();
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' });
    res.end();
    return;
  }
  const name = pathname === '/console/' ? 'index.html' : pathname.slice('/console/'.length);
  let body: Buffer;
  try {
    body = await fs.readFile(path.join(dir, name));
  } catch {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('The console is not built on this gateway (npm run build).');
    return;
  }
  res.writeHead(200, {
    'content-type': TYPES[path.extname(name)] ?? 'application/octet-stream',
    'content-length': body.length,
    'content-security-policy': CONSOLE_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': name === 'index.html' ? 'no-cache' : IMMUTABLE,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
