/**
 * Loading the agent config: read, validate (every error with its JSON path), resolve paths against
 * the file's folder, apply `OUTPOST_HOME`. Without a file, the embedded defaults apply.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { agentConfig, type AgentConfig } from '../../shared/schema/config.js';
import { parseDocument } from '../../shared/schema/validate.js';
import { resolvePath } from '../../shared/config/paths.js';

/** The config with every path absolute. */
export type ResolvedAgentConfig = AgentConfig & {
  /** The file it came from, or null for the embedded defaults. */
  readonly source: string | null;
};

/** Reads and resolves the agent config; `file` null means embedded defaults. */
export async function loadAgentConfig(file: string | null, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedAgentConfig> {
  let raw: unknown = {};
  let base = process.cwd();
  if (file !== null) {
    const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new Error(`cannot read config file ${file}: ${err.code ?? err.message}`, { cause: err });
    });
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new Error(`config file ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    base = path.dirname(path.resolve(file));
  }
  return resolveAgentConfig(parseDocument(agentConfig, raw, `config ${file ?? '(defaults)'}`), base, file, env);
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
    source: source === null ? null : path.resolve(source),
  };
}
