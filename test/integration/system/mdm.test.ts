/**
 * `outpost mdm --out DIR` (issue 14.5): every artifact read back by a parser. The profile by the
 * `plist` package (Apple's XML plist format, as plistlib reads it); the managed configs by the agent's
 * own loader; the certificates by X509Certificate. PowerShell is not packaged for Debian, so the
 * script is checked by extracting what it embeds (the here-string and the base64 root) and the
 * commands it runs, in order.
 */
import { createRequire } from 'node:module';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../../agent/config/load.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';
import { runOutpost } from '../../support/cli.js';

const plist = createRequire(import.meta.url)('plist') as { parse(xml: string): unknown };

interface Payload {
  PayloadType: string;
  PayloadUUID: string;
  PayloadIdentifier: string;
  PayloadContent?: unknown;
  [key: string]: unknown;
}
interface Profile extends Payload {
  PayloadContent: Payload[];
}

describe('outpost mdm', () => {
  let dir: string;
  let root: TestCa;
  const out = (name: string) => path.join(dir, name);

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-mdm-'));
    root = await createTestCa('Example Corp Outpost Root');
    await fs.writeFile(out('managed.json'), JSON.stringify({ proxy: { port: 8787 }, ca: { mode: 'fleet' }, systemProxy: { watchdogSeconds: 30 } }));
    const res = await runOutpost(['mdm', '--out', out('a'), '--org-root', root.caFile, '--managed', out('managed.json'), '--gateway', 'https://gateway.example.com', '--enrollment-token', 'enr_abc', '--organization', 'Example & Co']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
  });
  afterAll(async () => {
    await root.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('the .mobileconfig parses as a plist: root as com.apple.security.root, PAC on the agent, the managed config as custom settings', async () => {
    const profile = plist.parse(await fs.readFile(out('a/macos/Outpost.mobileconfig'), 'utf8')) as Profile;
    expect(profile).toMatchObject({ PayloadType: 'Configuration', PayloadVersion: 1, PayloadScope: 'System', PayloadOrganization: 'Example & Co' });
    const byType = new Map(profile.PayloadContent.map((p) => [p.PayloadType, p]));
    const rootPayload = byType.get('com.apple.security.root');
    expect(Buffer.from(rootPayload?.PayloadContent as Uint8Array).equals(new X509Certificate(root.caPem).raw)).toBe(true);
    expect(byType.get('com.apple.proxy.http.global')).toMatchObject({ ProxyType: 'Auto', ProxyPACURL: 'http://127.0.0.1:8787/proxy.pac', ProxyPACFallbackAllowed: true });
    expect(byType.get('com.outpost.agent')).toMatchObject({ proxy: { port: 8787 }, ca: { mode: 'fleet' }, gateway: { url: 'https://gateway.example.com', enrollmentToken: 'enr_abc' } });
    const uuids = [profile.PayloadUUID, ...profile.PayloadContent.map((p) => p.PayloadUUID)];
    for (const u of uuids) expect(u).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
    expect(new Set(uuids).size).toBe(4);
    expect(new Set(profile.PayloadContent.map((p) => p.PayloadIdentifier)).size).toBe(3);
  });

  it('regenerating gives the same identifiers, so the new profile replaces the installed one', async () => {
    expect((await runOutpost(['mdm', '--out', out('b'), '--org-root', root.caFile, '--managed', out('managed.json'), '--gateway', 'https://gateway.example.com', '--enrollment-token', 'enr_abc', '--organization', 'Example & Co'])).code).toBe(0);
    expect(await fs.readFile(out('b/macos/Outpost.mobileconfig'), 'utf8')).toBe(await fs.readFile(out('a/macos/Outpost.mobileconfig'), 'utf8'));
  });

  it('the managed config files load as the agent loads them, with the gateway and token', async () => {
    for (const os_ of ['linux', 'macos', 'windows']) {
      const c = await loadAgentConfig(null, {}, { managedFile: out(`a/${os_}/config.json`) });
      expect(c.gateway).toEqual({ url: 'https://gateway.example.com', enrollmentToken: 'enr_abc', caFile: null, spkiSha256: null });
      expect(c.managed?.fields).toEqual(['proxy.port', 'ca.mode', 'systemProxy.watchdogSeconds', 'gateway.url', 'gateway.enrollmentToken']);
    }
    expect(((await fs.stat(out('a/linux/config.json'))).mode & 0o777).toString(8)).toBe('600');
    expect(new X509Certificate(await fs.readFile(out('a/linux/outpost-root.crt'))).fingerprint256).toBe(new X509Certificate(root.caPem).fingerprint256);
    expect(new X509Certificate(await fs.readFile(out('a/windows/outpost-root.cer'))).fingerprint256).toBe(new X509Certificate(root.caPem).fingerprint256);
  });

  it('the PowerShell script embeds the same config (valid, even as a BOM-prefixed file) and root, and installs them in order', async () => {
    const script = await fs.readFile(out('a/windows/install-outpost.ps1'), 'utf8');
    expect(script.split('\r\n')[0]).toBe('#Requires -RunAsAdministrator');
    const here = /\r\n\$config = @'\r\n([\s\S]*?)\r\n'@\r\n/.exec(script);
    expect(here).not.toBeNull();
    const embedded = path.join(dir, 'embedded.json');
    await fs.writeFile(embedded, `\uFEFF${here![1]!}`);
    expect((await loadAgentConfig(null, {}, { managedFile: embedded })).gateway.url).toBe('https://gateway.example.com');
    const b64 = /FromBase64String\('([A-Za-z0-9+/=]+)'\)/.exec(script)?.[1];
    expect(new X509Certificate(Buffer.from(b64!, 'base64')).fingerprint256).toBe(new X509Certificate(root.caPem).fingerprint256);
    const order = ['icacls', 'WriteAllText', 'WriteAllBytes', 'Import-Certificate -FilePath $cer -CertStoreLocation Cert:\\LocalMachine\\Root', 'Restart-Service'].map((s) => script.indexOf(s));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(await fs.readFile(out('a/windows/INTUNE.md'), 'utf8')).toContain('Computer certificate store - Root');
  });

  it('refuses a managed config without a fixed proxy port (the PAC URL is pushed to devices) or an invalid one', async () => {
    await fs.writeFile(out('bad.json'), JSON.stringify({ proxy: { port: 0 } }));
    const res = await runOutpost(['mdm', '--out', out('c'), '--org-root', root.caFile, '--managed', out('bad.json')]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/fixed port/);
    await fs.writeFile(out('bad2.json'), JSON.stringify({ proxy: { prot: 1 } }));
    expect((await runOutpost(['mdm', '--out', out('d'), '--org-root', root.caFile, '--managed', out('bad2.json')])).stderr).toMatch(/\$\.proxy.*prot/);
  });
});
