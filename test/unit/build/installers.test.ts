/**
 * The desktop installer configuration (build/): electron-builder cannot build a pkg, msi or AppImage
 * here, so the config is parsed (js-yaml, as electron-builder reads it), every file it names must
 * exist, the launchd plists parse (the plist package) and point at the agent's real entry point, and
 * every shell script passes `sh -n`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../support/repo.js';

const require = createRequire(import.meta.url);
const yaml = require('js-yaml') as { load(text: string): unknown };
const plist = require('plist') as { parse(xml: string): unknown };
const build = path.join(REPO_ROOT, 'build');

interface BuilderConfig {
  extraMetadata: { main: string };
  directories: { buildResources: string };
  extraResources: Array<{ from: string; to: string }>;
  mac: { target: string };
  pkg: { scripts: string };
  win: { target: string[] };
  nsis: { include: string; perMachine: boolean };
  linux: { target: string[]; extraResources: Array<{ from: string }> };
  deb: { afterInstall: string; afterRemove: string };
}

const config = yaml.load(fs.readFileSync(path.join(build, 'electron-builder.yml'), 'utf8')) as BuilderConfig;
/** electron-builder resolves these against `directories.buildResources`. */
const resource = (p: string): string => path.join(REPO_ROOT, config.directories.buildResources, p);

describe('installer configuration', () => {
  it('targets a pkg on macOS, NSIS and MSI on Windows (per machine), deb and AppImage on Linux', () => {
    expect(config.mac.target).toBe('pkg');
    expect(config.win.target).toEqual(['nsis', 'msi']);
    expect(config.nsis.perMachine).toBe(true);
    expect(config.linux.target).toEqual(['deb', 'AppImage']);
  });

  it('names only files that exist: the tray entry point, resources, pkg scripts, NSIS include, deb hooks', () => {
    expect(config.extraMetadata.main).toBe('dist/app/app/main/main.js');
    expect(fs.existsSync(path.join(REPO_ROOT, 'app/main/main.ts'))).toBe(true);
    for (const r of [...config.extraResources, ...config.linux.extraResources]) expect(fs.existsSync(path.join(REPO_ROOT, r.from)), r.from).toBe(true);
    for (const s of ['preinstall', 'postinstall']) expect(fs.statSync(path.join(resource(config.pkg.scripts), s)).mode & 0o111).not.toBe(0);
    expect(fs.readFileSync(resource(config.nsis.include), 'utf8')).toMatch(/!macro customInstall[\s\S]*!macro customUnInstall[\s\S]*ca untrust/);
    for (const hook of [config.deb.afterInstall, config.deb.afterRemove]) expect(fs.existsSync(resource(hook))).toBe(true);
  });

  it('the launchd plists parse; the daemon runs the agent\'s CLI on the app\'s Electron in Node mode, the tray is a login item', () => {
    const daemon = plist.parse(fs.readFileSync(path.join(build, 'macos/com.outpost.agent.plist'), 'utf8')) as { Label: string; ProgramArguments: string[]; EnvironmentVariables: Record<string, string>; KeepAlive: unknown };
    expect(daemon.Label).toBe('com.outpost.agent');
    expect(daemon.ProgramArguments[1]).toMatch(/app\.asar\/dist\/agent\/cli\/main\.js$/);
    expect(fs.existsSync(path.join(REPO_ROOT, 'agent/cli/main.ts'))).toBe(true);
    expect(daemon.ProgramArguments[2]).toBe('start');
    expect(daemon.EnvironmentVariables.ELECTRON_RUN_AS_NODE).toBe('1');
    expect(daemon.KeepAlive).toEqual({ SuccessfulExit: false });
    const tray = plist.parse(fs.readFileSync(path.join(build, 'macos/com.outpost.tray.plist'), 'utf8')) as { RunAtLoad: boolean; LimitLoadToSessionType: string };
    expect(tray).toMatchObject({ RunAtLoad: true, LimitLoadToSessionType: 'Aqua' });
    expect(fs.readFileSync(path.join(build, 'macos/pkg-scripts/postinstall'), 'utf8')).toMatch(/launchctl bootstrap system \/Library\/LaunchDaemons\/com\.outpost\.agent\.plist/);
  });

  it('every shell script parses (sh -n)', () => {
    const scripts = ['macos/pkg-scripts/preinstall', 'macos/pkg-scripts/postinstall', 'linux/after-install.sh', 'linux/after-remove.sh', 'linux/headless/postinst', 'linux/headless/prerm', 'linux/headless/postrm', 'linux/headless/outpost'];
    for (const s of scripts) execFileSync('sh', ['-n', path.join(build, s)]);
  });
});
