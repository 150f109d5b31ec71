/**
 * Loading the agent config: read, validate (every error with its JSON path), resolve paths against
 * the file's folder, apply `OUTPOST_HOME`, then the managed config (`managed.ts`), which overrides
 * the user's fields and `OUTPOST_HOME` field by field. Without a file, the embedded defaults apply.
 */
import path from 'node:path';
import { agentConfig, type AgentConfig } from '../../shared/schema/config.js';
import { parseDocument } from '../../shared/schema/validate.js';
import { resolvePath } from '../../shared/config/paths.js';
import { managedConfigPath, managedFields, overlay, readConfigDocument } from './managed.js';

/** The config with every path absolute. */
export type ResolvedAgentConfig = AgentConfig & {
  /** The file it came from, or null for the embedded defaults. */
  readonly source: string | null;
  /** The managed file in force and the fields it set; null when there is none. */
  readonly managed?: { readonly file: string; readonly fields: readonly string[] } | null;
};

/** Options for {@link loadAgentConfig}. */
export interface LoadAgentConfigOptions {
  /** The managed file; default: this OS's (`managedConfigPath`); null for none. */
  readonly managedFile?: string | null;
}

/** Reads and resolves the agent config; `file` null means embedded defaults. */
export async function loadAgentConfig(file: string | null, env: NodeJS.ProcessEnv = process.env, options: LoadAgentConfigOptions = {}): Promise<ResolvedAgentConfig> {
  const user = file === null ? {} : await readConfigDocument(file, 'config file');
  if (user === null) throw new Error(`cannot read config file ${file ?? ''}: ENOENT`);
  const managedFile = options.managedFile === undefined ? await managedConfigPath(process.platform, env) : options.managedFile;
  const managed = managedFile === null ? null : await readConfigDocument(managedFile, 'managed config');
  const merged = managed === null ? user : overlay(user, managed);
  const base = file === null ? process.cwd() : path.dirname(path.resolve(file));
  const config = parseDocument(agentConfig, merged, managed === null ? `config ${file ?? '(defaults)'}` : `config ${file ?? '(defaults)'} with managed ${managedFile ?? ''}`);
  const fields = managed === null ? [] : managedFields(managed);
  // OUTPOST_HOME is the user's: it cannot move a home the managed file set.
  const resolved = resolveAgentConfig(config, base, file, fields.includes('home') ? { ...env, OUTPOST_HOME: undefined } : env);
  return { ...resolved, managed: managed === null || managedFile === null ? null : { file: managedFile, fields } };
}

/** Resolves the paths of an already validated config. */
export function resolveAgentConfig(config: AgentConfig, base: string, source: string | null, env: NodeJS.ProcessEnv = process.env): ResolvedAgentConfig {
  const home = env.OUTPOST_HOME ? resolvePath(env.OUTPOST_HOME, process.cwd()) : resolvePath(config.home, base);
  return {
    ...config,
    home,
    policyFile: config.policyFile === null ? null : resolvePath(config.policyFile, base),
    upstream: {
      ...config.upstream,
      caFile: config.upstream.caFile === null ? null : resolvePath(config.upstream.caFile, base),
    },
    gateway: {
      ...config.gateway,
      caFile: config.gateway.caFile === null ? null : resolvePath(config.gateway.caFile, base),
    },
    source: source === null ? null : path.resolve(source),
  };
}
