/**
 * Signed policy from the gateway, the agent's side: a pushed version is taken only when its Ed25519
 * signature verifies against the key pinned at enrollment, its version is newer than the one in
 * force, and its document is a valid policy whose own `version` is the signed one. Anything else is
 * refused with a reason (kept for `outpost status` and the gateway) and the last good policy stays.
 * The accepted version is kept in the store as it travelled and verified again at every start.
 */
import type crypto from 'node:crypto';
import { verifyPolicySignature } from '../../shared/protocol/policy-signature.js';
import { policy as policySchema, type Policy } from '../../shared/schema/policy.js';
import { problemsOf } from '../../shared/schema/validate.js';
import type { StateStore, StoredSignedPolicy } from '../store/state.js';

/** A refused version and why. */
export interface PolicyRefusal {
  readonly version: number;
  readonly reason: string;
}

/** The outcome of checking a signed policy. */
export type SignedPolicyCheck = { readonly ok: true; readonly policy: Policy } | { readonly ok: false; readonly reason: string };

/** Checks signature and document (not the version order: see `SignedPolicySync`). */
export function checkSignedPolicy(key: crypto.KeyObject, signed: StoredSignedPolicy): SignedPolicyCheck {
  if (!verifyPolicySignature(key, signed)) return { ok: false, reason: 'the signature does not verify against the gateway key pinned at enrollment' };
  const parsed = policySchema.safeParse(signed.document);
  if (!parsed.success) {
    const first = problemsOf(parsed.error)[0];
    return { ok: false, reason: `the document is not a valid policy: ${first === undefined ? 'invalid' : `${first.path}: ${first.message}`}` };
  }
  if (parsed.data.version !== signed.version) return { ok: false, reason: `the document says version ${parsed.data.version}, the signature covers version ${signed.version}` };
  return { ok: true, policy: parsed.data };
}

/** The source string of a gateway policy (status, logs, the store's last good policy). */
export function gatewaySource(version: number): string {
  return `gateway (signed v${version})`;
}

/** What `SignedPolicySync` needs. */
export interface SignedPolicySyncOptions {
  readonly key: crypto.KeyObject;
  readonly state: StateStore;
  /** Applies a verified policy to the running agent (`RunningAgent.applyPolicy`). */
  readonly apply: (policy: Policy, source: string) => Promise<void>;
  readonly logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/** Receives signed versions, in order, one at a time. */
export class SignedPolicySync {
  private enforced: number | null;
  private enforcedSignedAt: string | null;
  private refusal: PolicyRefusal | null = null;

  constructor(
    private readonly options: SignedPolicySyncOptions,
    /** The signed version in force at start (from `loadKeptSignedPolicy`), null before the first. */
    enforcedVersion: number | null,
    /** When the gateway signed that version (ISO 8601), when known. */
    enforcedSignedAt: string | null = null,
  ) {
    this.enforced = enforcedVersion;
    this.enforcedSignedAt = enforcedVersion === null ? null : enforcedSignedAt;
  }

  /** The signed version in force; null while the agent still runs a local policy. */
  get version(): number | null {
    return this.enforced;
  }

  /** When the gateway signed the version in force (ISO 8601); null before the first or when not known. */
  get signedAt(): string | null {
    return this.enforcedSignedAt;
  }

  /** The last refusal, or null once a later version was taken. */
  get refused(): PolicyRefusal | null {
    return this.refusal;
  }

  /** Checks and applies `signed`; resolves to what happened. */
  async receive(signed: StoredSignedPolicy): Promise<'applied' | 'refused' | 'current'> {
    const { logger } = this.options;
    if (this.enforced !== null && signed.version === this.enforced) return 'current';
    if (this.enforced !== null && signed.version < this.enforced) return this.refuse(signed.version, `version ${signed.version} is older than version ${this.enforced} in force`);
    const check = checkSignedPolicy(this.options.key, signed);
    if (!check.ok) return this.refuse(signed.version, check.reason);
    try {
      await this.options.apply(check.policy, gatewaySource(signed.version));
    } catch (err) {
      return this.refuse(signed.version, `applying it failed: ${(err as Error).message}`);
    }
    this.enforced = signed.version;
    this.enforcedSignedAt = signed.signedAt;
    this.refusal = null;
    try {
      this.options.state.saveSignedPolicy(signed);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'cannot keep the signed policy in the store; it is enforced but will not survive a restart offline');
    }
    logger.info({ version: signed.version, name: check.policy.name }, 'signed policy from the gateway applied');
    return 'applied';
  }

  private refuse(version: number, reason: string): 'refused' {
    this.refusal = { version, reason };
    this.options.logger.error({ version, reason }, 'refused a policy from the gateway; the last good policy stays in force');
    return 'refused';
  }
}

/**
 * The kept signed policy, verified again (a store edited on disk, or a key changed by a new
 * enrollment, is refused and reported); null when there is none or it does not verify.
 */
export function loadKeptSignedPolicy(
  key: crypto.KeyObject,
  state: StateStore,
  logger: SignedPolicySyncOptions['logger'],
): { readonly version: number; readonly signedAt: string; readonly policy: Policy } | null {
  let kept: StoredSignedPolicy | null;
  try {
    kept = state.signedPolicy();
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'the kept signed policy cannot be read');
    return null;
  }
  if (kept === null) return null;
  const check = checkSignedPolicy(key, kept);
  if (!check.ok) {
    logger.error({ version: kept.version, reason: check.reason }, 'the kept signed policy is refused at start');
    return null;
  }
  return { version: kept.version, signedAt: kept.signedAt, policy: check.policy };
}
