/**
 * What an MDM pushes to make a laptop governed (issue 14.5), for `outpost mdm --out DIR`:
 * - macOS: `Outpost.mobileconfig` with the organisation root (`com.apple.security.root`), the proxy
 *   auto-config (`com.apple.proxy.http.global`, PAC on the agent) and the managed config as a custom
 *   settings payload (preference domain `com.outpost.agent`), plus `config.json` for
 *   `/Library/Application Support/Outpost/`;
 * - Windows: `install-outpost.ps1` (managed config into `%ProgramData%\Outpost`, root into
 *   LocalMachine\Root, agent service restarted), `outpost-root.cer` and `INTUNE.md` (the trusted
 *   certificate profile and the script deployment, step by step);
 * - Linux: `config.json` for `/etc/outpost/` and the root as `outpost-root.crt`.
 * Identifiers and UUIDs derive from the root, so a regenerated profile replaces the installed one.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { agentConfig } from '../../../shared/schema/config.js';
import { parseDocument } from '../../../shared/schema/validate.js';
import { buildPlist, type PlistValue } from './plist.js';

/** What the artifacts are made from. */
export interface MdmInputs {
  /** The organisation (shown in the profile). */
  readonly organization: string;
  /** The root every device trusts (fleet: the organisation root). */
  readonly rootPem: string;
  /** The managed config (validated here). */
  readonly managedConfig: Record<string, unknown>;
}

/** One file to write, relative to the output folder. */
export interface MdmArtifact {
  readonly path: string;
  readonly content: string | Buffer;
  readonly description: string;
}

const PROFILE_ID = 'com.outpost.profile';
export const AGENT_PREFERENCE_DOMAIN = 'com.outpost.agent';

/** A stable UUID (v4-shaped) from `seed`. */
function stableUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`.toUpperCase();
}

/** The config as plist values: nulls dropped (the agent's defaults apply). */
function toPlist(value: unknown): PlistValue | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map(toPlist).filter((v): v is PlistValue => v !== null);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlist(v)]));
  return value as PlistValue;
}

/** The PAC URL the agent will serve with this config (its fixed proxy port). */
export function pacUrlOf(managed: Record<string, unknown>): string {
  const config = agentConfig.parse(managed);
  if (config.proxy.port === 0) throw new Error('the managed config must give the proxy a fixed port (proxy.port): the PAC URL is pushed to devices');
  return `http://${config.proxy.host}:${config.proxy.port}/proxy.pac`;
}

/** Builds every artifact; throws when the managed config is invalid. */
export function buildMdmArtifacts(inputs: MdmInputs): MdmArtifact[] {
  parseDocument(agentConfig, inputs.managedConfig, 'managed config');
  const root = new X509Certificate(inputs.rootPem);
  const der = root.raw;
  const seed = root.fingerprint256;
  const pac = pacUrlOf(inputs.managedConfig);
  const json = `${JSON.stringify(inputs.managedConfig, null, 2)}\n`;
  const payload = (kind: string, type: string, name: string, fields: Record<string, PlistValue | null>): PlistValue => ({
    PayloadType: type,
    PayloadVersion: 1,
    PayloadIdentifier: `${PROFILE_ID}.${kind}`,
    PayloadUUID: stableUuid(`${seed}/${kind}`),
    PayloadDisplayName: name,
    ...fields,
  });
  const profile = buildPlist({
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: PROFILE_ID,
    PayloadUUID: stableUuid(`${seed}/profile`),
    PayloadDisplayName: 'Outpost',
    PayloadDescription: 'Trusts the organisation root and sends AI traffic to the local Outpost agent.',
    PayloadOrganization: inputs.organization,
    PayloadScope: 'System',
    PayloadRemovalDisallowed: true,
    PayloadContent: [
      payload('root', 'com.apple.security.root', `${inputs.organization} Outpost root`, { PayloadCertificateFileName: 'outpost-root.cer', PayloadContent: der }),
      // Fail open as the PAC itself does: if the agent is down, browsers go direct rather than nowhere.
      payload('proxy', 'com.apple.proxy.http.global', 'Outpost proxy auto-config', { ProxyType: 'Auto', ProxyPACURL: pac, ProxyPACFallbackAllowed: true, ProxyCaptiveLoginAllowed: true }),
      payload('config', AGENT_PREFERENCE_DOMAIN, 'Outpost managed configuration', toPlist(inputs.managedConfig) as Record<string, PlistValue>),
    ],
  });
  const script = windowsScript(json, der);
  return [
    { path: 'macos/Outpost.mobileconfig', content: profile, description: 'macOS configuration profile: organisation root, PAC, managed config (custom settings)' },
    { path: 'macos/config.json', content: json, description: 'managed config for /Library/Application Support/Outpost/config.json (the pkg postinstall or a script puts it there)' },
    { path: 'windows/install-outpost.ps1', content: script, description: 'PowerShell (run as SYSTEM/administrator): managed config, root in LocalMachine\\Root, service restart' },
    { path: 'windows/outpost-root.cer', content: der, description: 'the root for an Intune trusted-certificate profile' },
    { path: 'windows/INTUNE.md', content: intuneSteps(inputs.organization), description: 'Intune steps: trusted-certificate profile and script deployment' },
    { path: 'windows/config.json', content: json, description: 'managed config for %ProgramData%\\Outpost\\config.json' },
    { path: 'linux/config.json', content: json, description: 'managed config for /etc/outpost/config.json' },
    { path: 'linux/outpost-root.crt', content: root.toString(), description: 'the root for /usr/local/share/ca-certificates/ (then update-ca-certificates)' },
  ];
}

function windowsScript(json: string, der: Buffer): string {
  if (/^'@/m.test(json)) throw new Error('the managed config cannot be embedded in a PowerShell here-string');
  return [
    '#Requires -RunAsAdministrator',
    '# Outpost: managed configuration and organisation root for this machine (generated by outpost mdm).',
    "$ErrorActionPreference = 'Stop'",
    "$dir = Join-Path $env:ProgramData 'Outpost'",
    'New-Item -ItemType Directory -Force -Path $dir | Out-Null',
    '# Only administrators and SYSTEM may change the managed config; users read it.',
    "icacls $dir /inheritance:r /grant:r '*S-1-5-32-544:(OI)(CI)F' '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-545:(OI)(CI)RX' | Out-Null",
    "$config = @'",
    json.replace(/\n$/, ''),
    "'@",
    '# UTF-8 without a byte order mark (Set-Content -Encoding UTF8 adds one on Windows PowerShell 5).',
    "[IO.File]::WriteAllText((Join-Path $dir 'config.json'), $config)",
    `$der = [Convert]::FromBase64String('${der.toString('base64')}')`,
    "$cer = Join-Path $dir 'outpost-root.cer'",
    '[IO.File]::WriteAllBytes($cer, $der)',
    'Import-Certificate -FilePath $cer -CertStoreLocation Cert:\\LocalMachine\\Root | Out-Null',
    "$svc = Get-Service -Name 'OutpostAgent' -ErrorAction SilentlyContinue",
    "if ($null -ne $svc) { Restart-Service -Name 'OutpostAgent' }",
    "Write-Output 'Outpost: managed config and root installed'",
    '',
  ].join('\r\n');
}

function intuneSteps(org: string): string {
  return `# Deploying Outpost with Microsoft Intune (${org})

1. **Trusted certificate profile** (the organisation root):
   Intune admin center → Devices → Configuration → Create → New policy → Platform *Windows 10 and later*,
   Profile type *Templates* → *Trusted certificate*. Upload \`outpost-root.cer\` from this folder,
   Destination store: *Computer certificate store - Root*. Assign it to the device groups.
2. **The agent**: Apps → Windows → Add → *Windows app (Win32)* (the \`.intunewin\` made from the
   Outpost installer) or *Line-of-business app* (the \`.msi\`); install behaviour *System*.
3. **Managed configuration**: Devices → Scripts and remediations → Platform scripts → Add → Windows 10
   and later: upload \`install-outpost.ps1\`, *Run this script using the logged on credentials: No*
   (runs as SYSTEM), *Run script in 64 bit PowerShell host: Yes*. It writes
   \`%ProgramData%\\Outpost\\config.json\` (administrators-only folder), installs the root in
   LocalMachine\\Root as well (for machines outside step 1) and restarts the agent service.
4. Check a device: \`outpost doctor\` lists the managed fields, the root's trust and the system proxy.
`;
}
