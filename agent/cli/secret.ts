/** `outpost secret set NAME` (value on standard input) / `outpost secret delete NAME`: provider keys in the OS keychain. */
import type { Command } from 'commander';
import { loadAgentConfig } from '../config/load.js';
import { openKeychain } from '../system/keychain.js';
import { secretEntry } from '../secrets/resolve.js';
import { SECRET_NAME } from '../../shared/schema/common.js';
import { output } from './output.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline (from `echo` or a terminal) is not part of the secret.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function checkName(name: string): void {
  if (!SECRET_NAME.test(name)) throw new Error(`"${name}" is not a secret name: use letters, digits, ".", "_" and "-" (policy refers to it as "keychain:${name}")`);
}

/** Checks the secret's name, then opens the keychain the agent's config names. */
async function keychainFor(name: string, configFile: string | undefined): Promise<Awaited<ReturnType<typeof openKeychain>>> {
  checkName(name);
  const config = await loadAgentConfig(configFile ?? null);
  return openKeychain({ home: config.home, mode: config.ca.keyStore });
}

/** Adds `secret set|delete` to the command tree. */
export function registerSecret(program: Command): void {
  const group = program.command('secret').description('provider keys in the OS keychain, for policy references "keychain:NAME"');
  group
    .command('set')
    .description('store a secret; the value is read from standard input')
    .argument('<name>', 'secret name (policy: "keychain:NAME")')
    .option('-c, --config <file>', 'agent config file (JSON)')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, opts: { config?: string; json?: boolean }) => {
      const keychain = await keychainFor(name, opts.config);
      const value = await readStdin();
      if (value.length === 0) throw new Error('no value on standard input (example: printf %s "$KEY" | outpost secret set NAME)');
      await keychain.set(secretEntry(name), value);
      output(opts.json, { ok: true, name, store: keychain.backend }, `stored "${name}" in ${keychain.description}`);
    });
  group
    .command('delete')
    .description('remove a secret')
    .argument('<name>', 'secret name')
    .option('-c, --config <file>', 'agent config file (JSON)')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, opts: { config?: string; json?: boolean }) => {
      const keychain = await keychainFor(name, opts.config);
      const removed = await keychain.delete(secretEntry(name));
      output(opts.json, { ok: true, name, removed }, removed ? `deleted "${name}"` : `no secret "${name}" was stored`);
      if (!removed) process.exitCode = 1;
    });
}
