#!/usr/bin/env node
// Bundles the tray window's page (app/renderer/page.ts) with esbuild into dist/app/renderer/, with its
// HTML and CSS beside it: one script file, no CDN, nothing inline (its Content-Security-Policy forbids it).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist/app/renderer');
fs.mkdirSync(out, { recursive: true });
await build({ entryPoints: [path.join(root, 'app/renderer/page.ts')], bundle: true, format: 'iife', target: 'chrome120', outfile: path.join(out, 'page.js'), logLevel: 'warning', legalComments: 'none' });
for (const file of ['index.html', 'style.css']) fs.copyFileSync(path.join(root, 'app/renderer', file), path.join(out, file));

// The admin console served by the gateway at /console/ (gateway/console-site.ts): its pages and Chart.js
// bundled into one script, with the CSS and icon, into dist/console/assets/ under names carrying a hash of
// their content (served as immutable, cached for a year), and index.html pointing at those names. No CDN:
// it works offline. assets.json lists the asset names the gateway serves.
const consoleOut = path.join(root, 'dist/console');
fs.rmSync(consoleOut, { recursive: true, force: true });
fs.mkdirSync(path.join(consoleOut, 'assets'), { recursive: true });
const bundled = await build({ entryPoints: [path.join(root, 'console/main.ts')], bundle: true, format: 'iife', target: 'chrome120', minify: true, write: false, outfile: 'console.js', logLevel: 'warning', legalComments: 'none' });
const assets = new Map([
  ['console.js', Buffer.from(bundled.outputFiles[0].contents)],
  ['style.css', fs.readFileSync(path.join(root, 'console/style.css'))],
  ['favicon.svg', fs.readFileSync(path.join(root, 'console/favicon.svg'))],
]);
let html = fs.readFileSync(path.join(root, 'console/index.html'), 'utf8');
const served = [];
for (const [name, body] of assets) {
  const ext = path.extname(name);
  const hashed = `${path.basename(name, ext)}-${crypto.createHash('sha256').update(body).digest('hex').slice(0, 12)}${ext}`;
  fs.writeFileSync(path.join(consoleOut, 'assets', hashed), body);
  if (!html.includes(`"assets/${name}"`)) throw new Error(`console/index.html does not reference assets/${name}`);
  html = html.replaceAll(`"assets/${name}"`, `"assets/${hashed}"`);
  served.push(hashed);
}
fs.writeFileSync(path.join(consoleOut, 'index.html'), html);
fs.writeFileSync(path.join(consoleOut, 'assets.json'), `${JSON.stringify({ assets: served }, null, 2)}\n`);
