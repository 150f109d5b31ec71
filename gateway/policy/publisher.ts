/**
 * Accepting a policy from an administrator: validate it (shared/schema/policy.ts), give it the next
 * version, sign that version (Ed25519, shared/protocol/policy-signature.ts), store it and tell every
 * replica, whose hubs push it to their agents. A rollback is a new version carrying an older
 * document, so an agent's "never go back a version" rule holds.
 */
import { policy as policySchema } from '../../shared/schema/policy.js';
import { hashKey } from '../../shared/core/virtual-keys.js';
import { signPolicy } from '../../shared/protocol/policy-signature.js';
import type { SigningKey } from '../signing-key.js';
import type { GatewayStore, PolicyVersion } from '../store/store.js';
import { ApiHttpError, parseInput } from '../http/errors.js';

/** Signs and publishes policy versions. */
export class PolicyPublisher {
  constructor(
    private readonly store: GatewayStore,
    private readonly key: SigningKey,
  ) {}

  /** Validates and publishes `input` as the next version; throws a 400 naming every bad field. */
  async put(input: unknown): Promise<PolicyVersion> {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new ApiHttpError(400, 'invalid_request', 'the body must be a policy document (a JSON object)');
    }
    // The gateway owns the version: whatever the document says is replaced by the one it gets.
    parseInput(policySchema, { ...input, version: 1 }, 'the policy');
    return this.publish(hashVirtualKeys(input as Record<string, unknown>), 'put');
  }

  /** Publishes the document of `version` again, as the next version. */
  async rollback(version: number): Promise<PolicyVersion> {
    const old = await this.store.policyVersion(version);
    if (old === null) throw new ApiHttpError(404, 'not_found', `there is no policy version ${version}`);
    return this.publish(old.document as Record<string, unknown>, `rollback to ${version}`);
  }

  private async publish(document: Record<string, unknown>, origin: string): Promise<PolicyVersion> {
    const stored = await this.store.addPolicy((version) => {
      const doc = { ...document, version };
      const signed = signPolicy(this.key.privateKey, version, doc);
      return { document: doc, signature: signed.signature, signedAt: new Date().toISOString() };
    }, origin);
    await this.store.publish({ kind: 'policy', version: stored.version });
    return stored;
  }
}

/**
 * Virtual keys leave the gateway only as hashes (DESIGN.md "Security properties"): a plain `key` in the
 * administrator's document becomes `keySha256` before it is stored, signed or sent.
 */
function hashVirtualKeys(doc: Record<string, unknown>): Record<string, unknown> {
  const keys = doc.virtualKeys;
  if (!Array.isArray(keys)) return doc;
  return {
    ...doc,
    virtualKeys: keys.map((vk: Record<string, unknown>) => {
      if (typeof vk.key !== 'string') return vk;
      const { key, ...rest } = vk;
      return { ...rest, keySha256: hashKey(key) };
    }),
  };
}
