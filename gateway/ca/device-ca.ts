/** Issuing device intermediates for the current policy (enrollment and `ca.renew`). */
import { policy as policySchema } from '../../shared/schema/policy.js';
import type { IntermediateChain } from '../../shared/schema/protocol.js';
import type { GatewayStore } from '../store/store.js';
import type { OrgSigner } from './org-signer.js';

/** The organisation CA as the enrollment route and the hub use it. */
export class DeviceCa {
  constructor(
    private readonly signer: OrgSigner,
    private readonly store: GatewayStore,
  ) {}

  /** Signs `csrPem` for `deviceName`, constrained to the hosts the current policy intercepts. */
  async issue(csrPem: string, deviceName: string): Promise<IntermediateChain> {
    const latest = await this.store.latestPolicy();
    const parsed = latest === null ? null : policySchema.safeParse(latest.document);
    return this.signer.sign(csrPem, deviceName, parsed?.success ? parsed.data.interception.hosts : null);
  }
}
