#!/usr/bin/env node
// Builds the headless agent's Debian package (outpost-agent_<version>_<arch>.deb) from the built tree
// (npm run build first): the compiled agent under /usr/lib/outpost with its production dependencies
// and native addons, /usr/bin/outpost, the systemd system unit and the maintainer scripts of
// build/linux/headless/. `--bundle-node` carries this machine's Node (no dependency on the distribution's,
// which is too old on Debian 12); without it the package depends on nodejs >= 20.18.
//   node scripts/build-deb.mjs --out DIR [--bundle-node]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = path.resolve(outIndex >= 0 && args[outIndex + 1] ? args[outIndex + 1] : path.join(root, 'dist/installers'));
const bundleNode = args.includes('--bundle-node');
const headless = path.join(root, 'build/linux/headless');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();

if (!fs.existsSync(path.join(root, 'dist/agent/cli/main.js'))) {
  console.error('build-deb: dist/ is missing: run npm run build first');
  process.exit(1);
}
const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-deb-'));
const lib = path.join(stage, 'usr/lib/outpost');
const copy = (from, to) => fs.cpSync(from, to, { recursive: true, dereference: true, filter: (src) => !src.endsWith('.map') });

try {
  for (const part of ['agent', 'shared', 'gateway']) copy(path.join(root, 'dist', part), path.join(lib, 'dist', part));
  fs.writeFileSync(path.join(lib, 'package.json'), `${JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module', private: true }, null, 2)}\n`);
  const native = path.join(root, 'native/build/original-dst.node');
  if (fs.existsSync(native)) copy(native, path.join(lib, 'native/build/original-dst.node'));
  // Production dependencies only: the closure of package.json's dependencies, resolved as Node does
  // (a package's own node_modules first, then upwards); each top-level folder copied once.
  const tops = new Set();
  const seen = new Set();
  const queue = [[root, Object.keys(pkg.dependencies ?? {})]];
  while (queue.length > 0) {
    const [from, names] = queue.shift();
    for (const name of names) {
      let dir = null;
      for (let d = from; ; d = path.dirname(d)) {
        const candidate = path.join(d, 'node_modules', name);
        if (fs.existsSync(path.join(candidate, 'package.json'))) {
          dir = candidate;
          break;
        }
        if (d === root || d === path.dirname(d)) break;
      }
      if (dir === null || seen.has(dir)) continue;
      seen.add(dir);
      const rel = path.relative(path.join(root, 'node_modules'), dir).split(path.sep);
      if (!rel[0].startsWith('..')) tops.add(rel[0].startsWith('@') ? `${rel[0]}/${rel[1]}` : rel[0]);
      const meta = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      queue.push([dir, [...Object.keys(meta.dependencies ?? {}), ...Object.keys(meta.optionalDependencies ?? {}), ...Object.keys(meta.peerDependencies ?? {})]]);
    }
  }
  for (const name of tops) copy(path.join(root, 'node_modules', name), path.join(lib, 'node_modules', name));
  if (bundleNode) copy(process.execPath, path.join(lib, 'bin/node'));
  copy(path.join(headless, 'agent.json'), path.join(lib, 'agent.json'));
  fs.mkdirSync(path.join(stage, 'usr/bin'), { recursive: true });
  fs.copyFileSync(path.join(headless, 'outpost'), path.join(stage, 'usr/bin/outpost'));
  fs.chmodSync(path.join(stage, 'usr/bin/outpost'), 0o755);
  fs.mkdirSync(path.join(stage, 'lib/systemd/system'), { recursive: true });
  fs.copyFileSync(path.join(headless, 'outpost-agent.service'), path.join(stage, 'lib/systemd/system/outpost-agent.service'));

  const debian = path.join(stage, 'DEBIAN');
  fs.mkdirSync(debian);
  for (const script of ['postinst', 'prerm', 'postrm']) {
    fs.copyFileSync(path.join(headless, script), path.join(debian, script));
    fs.chmodSync(path.join(debian, script), 0o755);
  }
  const sizeKb = Number(execFileSync('du', ['-sk', stage], { encoding: 'utf8' }).split('\t')[0]);
  const depends = ['adduser', 'passwd', 'util-linux', 'ca-certificates', 'libnss3-tools', ...(bundleNode ? [] : ['nodejs (>= 20.18)'])];
  fs.writeFileSync(
    path.join(debian, 'control'),
    [
      'Package: outpost-agent',
      `Version: ${pkg.version}`,
      `Architecture: ${arch}`,
      'Maintainer: Outpost <outpost@example.com>',
      `Installed-Size: ${sizeKb}`,
      `Depends: ${depends.join(', ')}`,
      'Section: net',
      'Priority: optional',
      'Description: Outpost AI governance agent (headless)',
      ' A loopback intercepting proxy with a local CA that applies the AI gateway\'s policy',
      ' (virtual keys, budgets, rate limits, guardrails, audit) to AI traffic on this machine.',
      '',
    ].join('\n'),
  );
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, `outpost-agent_${pkg.version}_${arch}.deb`);
  // gzip -1: the package is mostly JavaScript and native modules; speed matters more than bytes here.
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z1', '--build', stage, file], { stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(file);
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}
