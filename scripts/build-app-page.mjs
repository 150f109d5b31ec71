#!/usr/bin/env node
// Bundles the tray window's page (app/renderer/page.ts) with esbuild into dist/app/renderer/, with its
// HTML and CSS beside it: one script file, no CDN, nothing inline (its Content-Security-Policy forbids it).
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
// bundled into one script, with the HTML, CSS and icon, into dist/console/. No CDN: it works offline.
const consoleOut = path.join(root, 'dist/console');
fs.mkdirSync(consoleOut, { recursive: true });
await build({ entryPoints: [path.join(root, 'console/main.ts')], bundle: true, format: 'iife', target: 'chrome120', minify: true, outfile: path.join(consoleOut, 'console.js'), logLevel: 'warning', legalComments: 'none' });
for (const file of ['index.html', 'style.css', 'favicon.svg']) fs.copyFileSync(path.join(root, 'console', file), path.join(consoleOut, file));
