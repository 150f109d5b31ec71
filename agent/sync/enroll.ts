/**
 * Enrolling this device with a central gateway (`outpost enroll`, or the managed config's
 * `gateway.enrollmentToken` on first start): trade the one-time token for a device id and
 * credential over verified TLS, pin the gateway's policy-signing key, and in fleet CA mode send the
 * device key's CSR and install the name-constrained intermediate that comes back.
 */
import os from 'node:os';
import type { ResolvedAgentConfig } from '../config/load.js';
import { FleetAuthority } from '../ca/fleet-authority.js';
import { KeyStore } from '../ca/keystore.js';
import { openKeychain, type Keychain } from '../system/keychain.js';
import { AGENT_VERSION } from '../version.js';
import { setIdentityUser } from '../system/identity.js';
import { apiError, enrollResponse, type DeviceFacts, type EnrollRequest } from '../../shared/schema/protocol.js';
import { SyncError } from './errors.js';
import { gatewayAddress } from './gateway-address.js';
import { gatewayTlsOptions, normalisePin } from './gateway-tls.js';
import { postJson } from './gateway-http.js';
import { EnrollmentStore, policyKeyOf, type EnrollmentFile } from './enrollment.js';

/** What `enrollAgent` needs beyond the config. */
export interface EnrollInput {
  readonly gatewayUrl: string;
  readonly token: string;
  /** TLS overrides (CLI flags); otherwise the config's `gateway.caFile` (else `upstream.caFile`) and `gateway.spkiSha256`. */
  readonly caFile?: string | null;
  readonly spkiSha256?: string | null;
  /** Replace an existing enrollment (a new device id; the old one stays on the gateway until revoked). */
  readonly replace?: boolean;
  /** The keychain to keep the credential in (default: the one the config names). */
  readonly keychain?: Keychain;
  /** Single sign-on: the PKCE verifier whose challenge the sign-in carried (`token` is then the code it returned). */
  readonly codeVerifier?: string;
}

/** What this device tells the gateway about itself. */
export function deviceFacts(): DeviceFacts {
  return { hostname: os.hostname(), osUser: os.userInfo().username, os: `${process.platform} ${os.release()}`, arch: process.arch, agentVersion: AGENT_VERSION };
}

/** The keychain the agent of `config` keeps its secrets in. */
export function agentKeychain(config: Pick<ResolvedAgentConfig, 'home' | 'ca'>): Promise<Keychain> {
  return openKeychain({ home: config.home, mode: config.ca.keyStore });
}

/** Enrolls the agent of `config`; resolves to the kept enrollment (no secret in it). */
export async function enrollAgent(config: ResolvedAgentConfig, input: EnrollInput): Promise<EnrollmentFile> {
  const address = gatewayAddress(input.gatewayUrl);
  const caFile = input.caFile ?? config.gateway.caFile ?? config.upstream.caFile;
  const pinRaw = input.spkiSha256 ?? config.gateway.spkiSha256;
  const spkiSha256 = pinRaw === null ? null : normalisePin(pinRaw);
  const tls = await gatewayTlsOptions({ caFile, pinSha256: spkiSha256 });
  const keychain = input.keychain ?? (await agentKeychain(config));
  const store = new EnrollmentStore(config.home, keychain);
  if (input.replace !== true) {
    const existing = await store.load().catch((err: unknown) => {
      // A damaged enrollment is replaced by a new one: that is the way out of it.
      if (err instanceof SyncError && err.code === 'SYNC_ENROLLMENT') return null;
      throw err;
    });
    if (existing !== null) {
      throw new SyncError('SYNC_ENROLLMENT', `this agent is already enrolled as ${existing.deviceId} with ${existing.gatewayUrl}; to enroll again (a new device), add --replace`);
    }
  }

  const fleet = config.ca.mode === 'fleet' ? await FleetAuthority.open({ home: config.home, keys: new KeyStore(keychain), requireNameConstraints: config.ca.nameConstraints }) : null;
  const request: EnrollRequest = {
    token: input.token,
    device: deviceFacts(),
    ...(fleet === null ? {} : { csrPem: await fleet.csr() }),
    ...(input.codeVerifier === undefined ? {} : { codeVerifier: input.codeVerifier }),
  };
  const answer = await postJson(address.enrollUrl, request, tls);
  if (answer.status !== 201) {
    const error = apiError.safeParse(answer.body);
    if (!error.success) throw new SyncError('SYNC_GATEWAY_UNREACHABLE', `${address.enrollUrl} answered HTTP ${answer.status}, not the enrollment protocol: is this the gateway's URL?`);
    throw new SyncError('SYNC_ENROLL_REFUSED', `the gateway refused the enrollment (HTTP ${answer.status} ${error.data.error.code}): ${error.data.error.message}`);
  }
  const parsed = enrollResponse.safeParse(answer.body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SyncError('SYNC_GATEWAY_UNREACHABLE', `the gateway's enrollment answer is invalid: $.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const enrolled = parsed.data;
  policyKeyOf(enrolled.gatewayPublicKeyPem);
  if (fleet !== null) {
    const root = enrolled.intermediate?.chainPem.at(-1);
    if (enrolled.intermediate === undefined || root === undefined) throw new SyncError('SYNC_ENROLLMENT', 'the agent runs in fleet CA mode but the gateway sent no intermediate');
    await fleet.install({ intermediatePem: enrolled.intermediate.certificatePem, orgRootPem: root });
  }
  const file: EnrollmentFile = {
    gatewayUrl: address.url,
    deviceId: enrolled.deviceId,
    team: enrolled.team,
    user: enrolled.user ?? null,
    gatewayPublicKeyPem: enrolled.gatewayPublicKeyPem,
    tls: { caFile, spkiSha256 },
    enrolledAt: new Date().toISOString(),
  };
  await store.save(file, enrolled.credential);
  // Signed in as a person: budgets and audit speak for `user:<email>` from the next start on.
  if (file.user !== null) await setIdentityUser(config.home, file.user);
  return file;
}
