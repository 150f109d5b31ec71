/**
 * At agent start: is this device enrolled, and with which TLS settings does it reach its gateway?
 * A device not yet enrolled whose config carries `gateway.url` and `gateway.enrollmentToken` (the
 * managed config IT pushes) enrolls itself here, once: afterwards the token is never used again,
 * whatever the config still says. A failed enrollment does not stop the agent: it runs on its local
 * policy, says why in status, and tries again at the next start.
 */
import type { ResolvedAgentConfig } from '../config/load.js';
import type { Keychain } from '../system/keychain.js';
import { SyncError } from './errors.js';
import { agentKeychain, enrollAgent } from './enroll.js';
import { EnrollmentStore, type Enrollment } from './enrollment.js';
import { gatewayTlsOptions, type GatewayTlsOptions } from './gateway-tls.js';
import type { SyncLogger } from './sync-connection.js';

/** What the agent starts with. */
export interface GatewayStartup {
  /** The enrollment, or null when the device is not enrolled. */
  readonly enrollment: Enrollment | null;
  /** How the gateway's TLS is verified (set with `enrollment`). */
  readonly tls: GatewayTlsOptions | null;
  /** Why the device is not syncing although a gateway is configured (status shows it); null when all is well. */
  readonly problem: string | null;
}

/** Loads the enrollment, enrolling first with the managed token when there is none. */
export async function gatewayStartup(config: ResolvedAgentConfig, log: SyncLogger, keychain?: Keychain): Promise<GatewayStartup> {
  let store: EnrollmentStore;
  try {
    store = new EnrollmentStore(config.home, keychain ?? (await agentKeychain(config)));
  } catch (err) {
    return { enrollment: null, tls: null, problem: `cannot open the keychain for the gateway enrollment: ${(err as Error).message}` };
  }
  let enrollment: Enrollment | null;
  try {
    enrollment = await store.load();
  } catch (err) {
    return { enrollment: null, tls: null, problem: (err as Error).message };
  }
  if (enrollment === null) {
    const { url, enrollmentToken } = config.gateway;
    if (url === null || enrollmentToken === null) return { enrollment: null, tls: null, problem: url === null ? null : 'a gateway is configured but this device is not enrolled: run outpost enroll --gateway URL --token TOKEN' };
    try {
      const enrolled = await enrollAgent(config, { gatewayUrl: url, token: enrollmentToken, keychain: store.keychainInUse });
      log.info({ gateway: enrolled.gatewayUrl, deviceId: enrolled.deviceId }, 'enrolled with the gateway using the managed enrollment token');
      enrollment = await store.load();
    } catch (err) {
      const why = err instanceof SyncError ? err.message : `enrollment failed: ${(err as Error).message}`;
      log.error({ gateway: url, err: why }, 'cannot enroll with the managed enrollment token; running on the local policy, will try again at the next start');
      return { enrollment: null, tls: null, problem: `not enrolled with ${url}: ${why}` };
    }
    if (enrollment === null) return { enrollment: null, tls: null, problem: 'the enrollment was not kept' };
  } else if (config.gateway.url !== null && config.gateway.url.replace(/\/+$/, '') !== enrollment.gatewayUrl) {
    log.warn({ configured: config.gateway.url, enrolled: enrollment.gatewayUrl }, 'the config names another gateway than the one this device enrolled with; syncing with the enrolled one (outpost enroll --replace to move)');
  }
  try {
    const tls = await gatewayTlsOptions({
      caFile: config.gateway.caFile ?? enrollment.tls.caFile ?? config.upstream.caFile,
      pinSha256: config.gateway.spkiSha256 ?? enrollment.tls.spkiSha256,
    });
    return { enrollment, tls, problem: null };
  } catch (err) {
    return { enrollment: null, tls: null, problem: (err as Error).message };
  }
}
