/**
 * Loading the gateway config (`examples/gateway.json`): read, validate (every error with its JSON
 * path), resolve `home` against the file's folder and the SQLite path against `home`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { gatewayConfig, type GatewayConfig } from '../shared/schema/gateway-config.js';
import { parseDocument } from '../shared/schema/validate.js';
import { resolvePath } from '../shared/config/paths.js';

/** The config with every path absolute. */
export type ResolvedGatewayConfig = GatewayConfig & { readonly source: string | null };

/** Reads and resolves the gateway config; `file` null means the defaults. */
export async function loadGatewayConfig(file: string | null): Promise<ResolvedGatewayConfig> {
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
  return resolveGatewayConfig(parseDocument(gatewayConfig, raw, `gateway config ${file ?? '(defaults)'}`), base, file);
}

/** Resolves the paths of an already validated config. */
export function resolveGatewayConfig(config: GatewayConfig, base: string, source: string | null): ResolvedGatewayConfig {
  const home = resolvePath(config.home, base);
  const store = config.store.kind === 'sqlite' ? { ...config.store, path: resolvePath(config.store.path, home) } : config.store;
  const fleetCa = config.fleetCa === null ? null : { certFile: resolvePath(config.fleetCa.certFile, base), keyFile: resolvePath(config.fleetCa.keyFile, base) };
  const providerKeys = Object.fromEntries(Object.entries(config.providerKeys).map(([name, s]) => [name, 'file' in s ? { file: resolvePath(s.file, base) } : s]));
  const upstream = { ...config.upstream, caFile: config.upstream.caFile === null ? null : resolvePath(config.upstream.caFile, base) };
  const oidc = config.console.oidc;
  const clientSecret = oidc?.clientSecret ?? null;
  const consoleConfig = oidc === null ? config.console : { ...config.console, oidc: { ...oidc, clientSecret: clientSecret !== null && 'file' in clientSecret ? { file: resolvePath(clientSecret.file, base) } : clientSecret } };
  return { ...config, home, store, fleetCa, providerKeys, upstream, console: consoleConfig, source: source === null ? null : path.resolve(source) };
}
