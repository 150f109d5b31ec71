/**
 * Headless Chromium (the system's, driven by playwright-core) that trusts a test CA the way a
 * managed laptop would: through an NSS database in its own throwaway HOME (FIELD-NOTES
 * "Certificates": Chromium on Linux reads `sql:$HOME/.pki/nssdb`). It reaches servers through a
 * proxy (`--proxy-server`) or with real hostnames mapped to loopback (`--host-resolver-rules`).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import type { ClientRoute } from './clients.js';

const run = promisify(execFile);

/** Where Debian installs Chromium; override with OUTPOST_TEST_CHROMIUM. */
const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** A running browser and its throwaway profile. */
export interface TestBrowser {
  readonly browser: Browser;
  /** Closes the browser and deletes its HOME (NSS database included). */
  close(): Promise<void>;
}

/** Options: a route (the CA PEMs are added to the NSS database as trusted for TLS servers). */
export interface ChromiumOptions extends Omit<ClientRoute, 'ca'> {
  /** CA certificate files to trust (`TestCa.caFile`). */
  readonly caFiles?: readonly string[];
}

/** Adds each CA to a fresh NSS database under `home` (`certutil -A -t "C,,"`). */
async function trustInNss(home: string, caFiles: readonly string[]): Promise<void> {
  const db = join(home, '.pki', 'nssdb');
  await mkdir(db, { recursive: true });
  await run('certutil', ['-d', `sql:${db}`, '-N', '--empty-password']);
  for (const [i, file] of caFiles.entries()) {
    await run('certutil', ['-d', `sql:${db}`, '-A', '-t', 'C,,', '-n', `outpost-test-ca-${i}`, '-i', file]);
  }
}

/** Launches headless Chromium on a route, trusting `caFiles` only through NSS. */
export async function launchChromium(options: ChromiumOptions = {}): Promise<TestBrowser> {
  const home = await mkdtemp(join(tmpdir(), 'outpost-chromium-'));
  try {
    await trustInNss(home, options.caFiles ?? []);
    const args = ['--no-first-run', '--disable-features=DnsOverHttps'];
    if (process.getuid?.() === 0) args.push('--no-sandbox'); // Chromium refuses to sandbox as root
    if (options.proxyUrl) args.push(`--proxy-server=${options.proxyUrl}`);
    const rules = Object.entries(options.resolve ?? {}).map(([host, address]) => `MAP ${host} ${address}`);
    if (!options.proxyUrl && rules.length > 0) args.push(`--host-resolver-rules=${rules.join(', ')}`);
    const browser = await chromium.launch({
      executablePath: process.env.OUTPOST_TEST_CHROMIUM ?? DEFAULT_CHROMIUM,
      headless: true,
      args,
      env: { ...process.env, HOME: home },
    });
    return {
      browser,
      close: async () => {
        await browser.close();
        await rm(home, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(home, { recursive: true, force: true });
    throw error;
  }
}
