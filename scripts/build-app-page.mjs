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
