/**
 * The provider keys the gateway holds for gateway mode (`providerKeys` in its config, by the names
 * policy refers to as `gateway:NAME`): each from an environment variable or a file, read when a
 * request needs it (a rotated file is picked up without a restart). The values never leave the
 * gateway except towards the provider, and never appear in a log or an error.
 */
import type { GatewayConfig } from '../../shared/schema/gateway-config.js';
import { readSecretSource } from '../secret-source.js';

/** Resolves `gateway:NAME` references. */
export class ProviderSecrets {
  constructor(
    private readonly sources: GatewayConfig['providerKeys'],
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The key named `name`, or null when the config has no such name or its source is empty. */
  async get(name: string): Promise<string | null> {
    const source = Object.hasOwn(this.sources, name) ? this.sources[name] : undefined;
    return source === undefined ? null : readSecretSource(source, this.env);
  }
}
