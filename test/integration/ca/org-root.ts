/**
 * An organisation root made in the test, standing in for the central gateway's signer (which lands
 * later): a P-256 root with pathlen 1 that signs device intermediates from their CSRs.
 */
import { generateEcKey } from '../../../agent/ca/keys.js';
import { caSpec } from '../../../shared/x509/profiles.js';
import { signCertificate } from '../../../shared/x509/certificate.js';
import { signIntermediate, MAX_INTERMEDIATE_LIFETIME_MS } from '../../../shared/x509/intermediate.js';
import { toPem } from '../../../shared/x509/pem.js';
import type { IntermediateSigner } from '../../../agent/ca/fleet-authority.js';

export interface OrgRoot {
  readonly certPem: string;
  /** The root's key (PKCS#8 PEM), for a gateway configured with it. */
  readonly keyPem: string;
  /** A signer for FleetAuthority; options change what it signs (for the refusal tests). */
  signer(options?: { permittedDns?: string[] | null; lifetimeMs?: number; notBefore?: Date }): IntermediateSigner;
}

/** Makes an organisation root. */
export async function createOrgRoot(): Promise<OrgRoot> {
  const key = await generateEcKey();
  const now = Date.now();
  const der = await signCertificate(
    caSpec({
      subject: [['O', 'Example Corp'], ['CN', 'Example Corp Outpost Root']],
      spki: key.spki,
      keyId: key.keyId,
      notBefore: new Date(now - 3_600_000),
      notAfter: new Date(now + 5 * 365 * 86_400_000),
      pathLen: 1,
      permittedDns: null,
    }),
    key.privateKey,
  );
  const certPem = toPem(der, 'CERTIFICATE');
  return {
    certPem,
    keyPem: key.privatePem,
    signer: (options = {}) => async (csrPem) => ({
      orgRootPem: certPem,
      intermediatePem: await signIntermediate({
        csrPem,
        issuerCertPem: certPem,
        issuerKey: key.privateKey,
        permittedDns: options.permittedDns === undefined ? ['api.openai.com', 'openai.azure.com'] : options.permittedDns,
        notBefore: options.notBefore ?? new Date(Date.now() - 3_600_000),
        lifetimeMs: options.lifetimeMs ?? MAX_INTERMEDIATE_LIFETIME_MS,
        deviceName: 'test-device',
      }),
    }),
  };
}
