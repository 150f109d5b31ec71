/**
 * This device's enrollment with a central gateway, as kept between runs: the device id and its
 * credential in the OS keychain (the credential is what lets anyone connect as this device), and
 * beside the store, in `<home>/gateway/enrollment.json`, what is not secret: the gateway's URL, its
 * pinned policy-signing key, the team. A file without its keychain entry (or the reverse) is a
 * damaged enrollment, reported as such rather than treated as "not enrolled".
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { deviceId } from '../../shared/schema/protocol.js';
import type { Keychain } from '../system/keychain.js';
import { readFileOrNull, writeFileAtomic } from '../system/files.js';
import { SyncError } from './errors.js';

/** The enrollment file (no secret in it). */
export const enrollmentFile = z.strictObject({
  gatewayUrl: z.string().url(),
  deviceId,
  team: z.string().nullable(),
  /** The person a single sign-on enrollment linked this device to (`user:<this>`); null for a token enrollment. */
  user: z.string().min(1).nullable().default(null),
  /** SPKI PEM of the gateway's Ed25519 policy-signing key, pinned at enrollment. */
  gatewayPublicKeyPem: z.string().min(1),
  /** How the gateway's TLS is verified, as given at enrollment (the config's `gateway.caFile`/`spkiSha256` override them). */
  tls: z.strictObject({ caFile: z.string().min(1).nullable(), spkiSha256: z.string().nullable() }),
  enrolledAt: z.string(),
});
export type EnrollmentFile = z.infer<typeof enrollmentFile>;
/** An enrollment file as written (`user` may be left out). */
export type EnrollmentFileInput = z.input<typeof enrollmentFile>;

/** The keychain entry: the device id with its credential, so one cannot be paired with another's. */
const credentialEntry = z.strictObject({ deviceId, credential: z.string().min(32) });

/** An enrollment as the sync client uses it. */
export interface Enrollment extends EnrollmentFile {
  readonly credential: string;
  /** The pinned key, parsed. */
  readonly gatewayKey: crypto.KeyObject;
}

/** Keychain entry name of the device credential. */
export const CREDENTIAL_ENTRY = 'gateway-device';

/** Parses the gateway's policy-signing key; it must be Ed25519. */
export function policyKeyOf(pem: string): crypto.KeyObject {
  let key: crypto.KeyObject;
  try {
    key = crypto.createPublicKey(pem);
  } catch (err) {
    throw new SyncError('SYNC_ENROLLMENT', 'the gateway\'s policy-signing key is not a public key (PEM)', { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new SyncError('SYNC_ENROLLMENT', `the gateway's policy-signing key is ${key.asymmetricKeyType ?? 'unknown'}, expected Ed25519`);
  return key;
}

/** Reads and writes the enrollment of the agent whose home is `home`. */
export class EnrollmentStore {
  constructor(
    readonly home: string,
    private readonly keychain: Keychain,
  ) {}

  /** The keychain the credential is kept in. */
  get keychainInUse(): Keychain {
    return this.keychain;
  }

  /** `<home>/gateway/enrollment.json`. */
  get file(): string {
    return path.join(this.home, 'gateway', 'enrollment.json');
  }

  /** The enrollment, or null when this agent never enrolled; throws `SYNC_ENROLLMENT` when it is damaged. */
  async load(): Promise<Enrollment | null> {
    const text = await readFileOrNull(this.file);
    const secret = await this.keychain.get(CREDENTIAL_ENTRY);
    if (text === null && secret === null) return null;
    if (text === null) throw damaged(`${this.file} is missing while ${this.keychain.description} holds a device credential`);
    if (secret === null) throw damaged(`${this.keychain.description} holds no device credential for the enrollment in ${this.file}`);
    const file = parseWith(enrollmentFile, text, this.file);
    const entry = parseWith(credentialEntry, secret, 'the device credential entry');
    if (entry.deviceId !== file.deviceId) throw damaged(`the keychain's credential is for ${entry.deviceId}, the enrollment file names ${file.deviceId}`);
    return { ...file, credential: entry.credential, gatewayKey: policyKeyOf(file.gatewayPublicKeyPem) };
  }

  /** Keeps a new enrollment: the credential first, so a crash between the two leaves a detectable state. */
  async save(file: EnrollmentFileInput, credential: string): Promise<void> {
    policyKeyOf(file.gatewayPublicKeyPem);
    await this.keychain.set(CREDENTIAL_ENTRY, JSON.stringify({ deviceId: file.deviceId, credential }));
    await writeFileAtomic(this.file, `${JSON.stringify(enrollmentFile.parse(file), null, 2)}\n`, 0o600);
  }

  /** Forgets the enrollment (file and credential); resolves true when there was one. */
  async forget(): Promise<boolean> {
    const had = await this.keychain.delete(CREDENTIAL_ENTRY);
    const removed = await fs.rm(this.file).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return false;
        throw err;
      },
    );
    return had || removed;
  }
}

function damaged(why: string): SyncError {
  return new SyncError('SYNC_ENROLLMENT', `the gateway enrollment is damaged: ${why}; enroll again with outpost enroll --gateway URL --token TOKEN`);
}

function parseWith<T>(schema: z.ZodType<T>, text: string, what: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw damaged(`${what} is not JSON`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw damaged(`${what}: $.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
