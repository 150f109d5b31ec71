/** `outpost mdm --out DIR`: the files an MDM pushes (macOS profile, Windows script and Intune steps, managed configs). */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { loadAgentConfig } from '../config/load.js';
import { readCaCertificate } from '../doctor/context.js';
import { buildMdmArtifacts } from '../system/mdm/artifacts.js';
import { output } from './output.js';

interface MdmOptions {
  out: string;
  config?: string;
  orgRoot?: string;
  managed?: string;
  gateway?: string;
  enrollmentToken?: string;
  organization: string;
  json?: boolean;
}

/** Adds `mdm` to the command tree. */
export function registerMdm(program: Command): void {
  program
    .command('mdm')
    .description('write what an MDM pushes: macOS .mobileconfig, Windows install script and Intune steps, managed config per OS')
    .requiredOption('-o, --out <dir>', 'output folder (created)')
    .option('-c, --config <file>', 'agent config whose CA is the root (when --org-root is not given)')
    .option('--org-root <file>', 'the organisation root certificate (PEM) devices must trust')
    .option('--managed <file>', 'a managed config (JSON) to start from')
    .option('--gateway <url>', 'set gateway.url in the managed config')
    .option('--enrollment-token <token>', 'set gateway.enrollmentToken in the managed config')
    .option('--organization <name>', 'organisation name shown in the profile', 'Outpost')
    .option('--json', 'print the written files as JSON')
    .action(async (opts: MdmOptions) => {
      const rootPem = opts.orgRoot !== undefined ? await fs.readFile(opts.orgRoot, 'utf8') : (await readCaCertificate(await loadAgentConfig(opts.config ?? null)))?.pem;
      if (rootPem === undefined) throw new Error('no CA certificate yet: pass --org-root FILE (fleet: the organisation root) or start the agent once');
      const managed = opts.managed === undefined ? {} : (JSON.parse(await fs.readFile(opts.managed, 'utf8')) as Record<string, unknown>);
      const gateway = { ...((managed.gateway as Record<string, unknown> | undefined) ?? {}) };
      if (opts.gateway !== undefined) gateway.url = opts.gateway;
      if (opts.enrollmentToken !== undefined) gateway.enrollmentToken = opts.enrollmentToken;
      const managedConfig = Object.keys(gateway).length > 0 ? { ...managed, gateway } : managed;
      const artifacts = buildMdmArtifacts({ organization: opts.organization, rootPem, managedConfig });
      for (const a of artifacts) {
        const file = path.join(opts.out, a.path);
        await fs.mkdir(path.dirname(file), { recursive: true });
        // The managed config may hold an enrollment token: readable by the administrator only.
        await fs.writeFile(file, a.content, { mode: 0o600 });
      }
      output(
        opts.json,
        { out: path.resolve(opts.out), files: artifacts.map((a) => ({ path: a.path, description: a.description })) },
        artifacts.map((a) => `${path.join(opts.out, a.path)}\n    ${a.description}`).join('\n'),
      );
    });
}
