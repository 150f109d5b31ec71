/**
 * Virtual keys: where a client puts one, and how it is recognised. Keys are held only as SHA-256
 * hashes (a plain `key` in a standalone policy is hashed when the policy is compiled); a presented
 * credential is hashed, looked up, and the stored hash compared in constant time.
 */
import { createHash, hash, timingSafeEqual } from 'node:crypto';
import type { ProviderRef } from '../schema/custom-provider.js';
import type { RateLimit, Budget, VirtualKey } from '../schema/policy.js';
import { compileModelPatterns, type ModelMatcher } from './model-patterns.js';

/** Where a credential was found on a request. */
export type CredentialLocation = 'authorization' | 'x-api-key' | 'x-goog-api-key' | 'api-key' | 'x-outpost-vk' | 'query-key';

/** A credential presented by the client (a virtual key or a raw provider key). */
export interface Credential {
  readonly value: string;
  readonly location: CredentialLocation;
}

/**
 * Virtual keys conventionally start with this prefix: a credential that carries it but matches no
 * key is an unknown (or mistyped) virtual key and gets a 401, never forwarded to a provider.
 */
export const VIRTUAL_KEY_PREFIX = 'ovk-';

/** A virtual key as the core uses it. */
export interface CompiledVirtualKey {
  readonly id: string;
  readonly hash: Buffer;
  readonly owner: string;
  readonly models: ModelMatcher | null;
  readonly providerKeys: Readonly<Partial<Record<ProviderRef, string>>>;
  readonly rateLimit: RateLimit | null;
  readonly budget: Budget | null;
  readonly revoked: boolean;
}

/** Hex SHA-256 of a key. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Compiles the policy's virtual keys into a hash-indexed table. */
export function compileVirtualKeys(keys: readonly VirtualKey[]): VirtualKeyTable {
  const byHash = new Map<string, CompiledVirtualKey>();
  for (const vk of keys) {
    const hex = vk.keySha256 ?? hashKey(vk.key ?? '');
    byHash.set(hex, {
      id: vk.id,
      hash: Buffer.from(hex, 'hex'),
      owner: vk.owner,
      models: vk.allowedModels ? compileModelPatterns(vk.allowedModels) : null,
      providerKeys: vk.providerKeys ?? {},
      rateLimit: vk.rateLimit ?? null,
      budget: vk.budget ?? null,
      revoked: vk.revoked,
    });
  }
  return new VirtualKeyTable(byHash);
}

/** The compiled virtual keys of one policy version. */
export class VirtualKeyTable {
  private ids: Map<string, CompiledVirtualKey> | null = null;

  constructor(private readonly byHash: ReadonlyMap<string, CompiledVirtualKey>) {}

  /** The virtual key with policy id `id`, or null (counter replay: records name keys by id). */
  byId(id: string): CompiledVirtualKey | null {
    this.ids ??= new Map([...this.byHash.values()].map((k) => [k.id, k]));
    return this.ids.get(id) ?? null;
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The virtual key whose hash matches `presented`, or null. */
  lookup(presented: string): CompiledVirtualKey | null {
    if (this.byHash.size === 0) return null;
    // Hot path (every credential of every request): one-shot hash, no Hash object.
    const digest = hash('sha256', presented, 'buffer');
    const found = this.byHash.get(digest.toString('hex'));
    // The map lookup is on the hash (which leaks nothing about the key); the final comparison is
    // constant-time so that the table can never become a timing oracle even if it changes shape.
    return found !== undefined && timingSafeEqual(found.hash, digest) ? found : null;
  }
}

type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Every credential on the request, most specific first: `x-outpost-vk` (a virtual key by
 * definition), then the provider credential headers and `?key=`.
 */
export function findCredentials(headers: HeaderBag, path: string): Credential[] {
  const out: Credential[] = [];
  const vk = single(headers['x-outpost-vk']);
  if (vk) out.push({ value: vk.trim(), location: 'x-outpost-vk' });
  const auth = single(headers['authorization']);
  if (auth && /^bearer\s+/i.test(auth)) out.push({ value: auth.replace(/^bearer\s+/i, '').trim(), location: 'authorization' });
  for (const name of ['x-api-key', 'x-goog-api-key', 'api-key'] as const) {
    const v = single(headers[name]);
    if (v) out.push({ value: v.trim(), location: name });
  }
  const q = path.indexOf('?');
  if (q !== -1) {
    const key = new URLSearchParams(path.slice(q + 1)).get('key');
    if (key) out.push({ value: key, location: 'query-key' });
  }
  return out;
}
