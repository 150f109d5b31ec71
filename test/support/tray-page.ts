/**
 * Serves the tray window's built page (dist/app/renderer) on loopback with its bridge's `./api/…`
 * routes passed to a real agent's control API with the token added, as the Electron preload does
 * over IPC: the page runs unchanged in plain Chromium. Event streams are piped as they come.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { REPO_ROOT } from './repo.js';
import { closeServer, listenOnFreePort } from './ports.js';

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/** A running page server. */
export interface TrayPageServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the page server in front of the control API at `controlUrl`. */
/** `extra` serves more files by path (a test's own scripts, e.g. axe-core, kept same-origin for the page's CSP). */
export async function startTrayPage(controlUrl: string, token: string, extra: Readonly<Record<string, string>> = {}): Promise<TrayPageServer> {
  const dir = path.join(REPO_ROOT, 'dist/app/renderer');
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/api/')) {
      const upstream = http.request(`${controlUrl}${url.slice(4)}`, { method: req.method, headers: { authorization: `Bearer ${token}`, 'content-type': req.headers['content-type'] ?? 'application/json' } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? 'application/json', 'cache-control': 'no-store' });
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      res.on('close', () => upstream.destroy());
      req.pipe(upstream);
      return;
    }
    const name = url === '/' ? 'index.html' : path.basename(url.split('?')[0] ?? '');
    const file = extra[url] ?? path.join(dir, name);
    fs.readFile(file).then(
      (body) => {
        res.writeHead(200, { 'content-type': TYPES[path.extname(name)] ?? 'application/octet-stream' });
        res.end(body);
      },
      () => {
        res.writeHead(404);
        res.end();
      },
    );
  });
  const port = await listenOnFreePort(server);
  return { url: `http://127.0.0.1:${port}/`, close: () => closeServer(server) };
}
