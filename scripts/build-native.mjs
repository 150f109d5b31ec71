#!/usr/bin/env node
// Builds the agent's one native addon (agent/system/native/original-dst.c → native/build/original-dst.node)
// with the system C compiler against the running Node's own headers (<prefix>/include/node). Linux
// only: elsewhere there is nothing to build. A machine without a compiler or headers still builds
// the agent: the transparent door then routes by SNI/Host alone, and says so (outpost status, doctor).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (process.platform !== 'linux') process.exit(0);
const source = path.join(root, 'agent/system/native/original-dst.c');
const out = path.join(root, 'native/build/original-dst.node');
const headers = [path.resolve(path.dirname(process.execPath), '../include/node'), '/usr/include/node', '/usr/local/include/node'].find((d) =>
  fs.existsSync(path.join(d, 'node_api.h')),
);
if (headers === undefined) {
  console.warn('build-native: no node_api.h found (install Node headers): transparent mode will route by SNI only');
  process.exit(0);
}
if (fs.existsSync(out) && fs.statSync(out).mtimeMs >= fs.statSync(source).mtimeMs) process.exit(0);
fs.mkdirSync(path.dirname(out), { recursive: true });
const cc = process.env.CC ?? 'cc';
const run = spawnSync(cc, ['-O2', '-Wall', '-Werror', '-shared', '-fPIC', `-I${headers}`, '-o', out, source], { stdio: 'inherit' });
if (run.error !== undefined || run.status !== 0) {
  console.warn(`build-native: ${cc} failed (${run.error?.message ?? `exit ${run.status}`}): transparent mode will route by SNI only`);
  process.exit(0);
}
