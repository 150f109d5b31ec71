/**
 * Fleet CA mode, the gateway's side: the organisation root (its certificate and key, named by the
 * config's `fleetCa`) signs each device's intermediate from the device's CSR: pathlen 0, at most 30
 * days, name-constrained to the DNS subtrees of the current policy's intercepted hosts, so that a key
 * stolen from a laptop can impersonate no bank and dies within a month. The device's own key never
 * leaves it; the gateway sees only the CSR.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { MAX_INTERMEDIATE_LIFETIME_MS, signIntermediate } from '../../shared/x509/intermediate.js';
import { subtreesFor } from '../../shared/x509/name-constraints.js';
import type { IntermediateChain } from '../../shared/schema/protocol.js';
import { OutpostError } from '../../shared/errors.js';

/** Backdating for clocks a little behind the gateway's (one hour). */
const BACKDATE_MS = 60 * 60 * 1000;

/** Why a CSR was not signed; `message` is safe to send to the device. */
export class CsrRefusedError extends OutpostError<'csr_refused'> {
  override readonly name = 'CsrRefusedError';
  constructor(message: string, options?: ErrorOptions) {
    super('csr_refused', message, options);
  }
}

/** Signs device intermediates with the organisation root. */
export class OrgSigner {
  private constructor(
    private readonly certPem: string,
    private readonly key: crypto.KeyObject,
  ) {}

  /** Loads the root certificate and its key; refuses a key that does not match the certificate. */
  static async load(certFile: string, keyFile: string): Promise<OrgSigner> {
    const [certPem, keyPem] = await Promise.all([fs.readFile(certFile, 'utf8'), fs.readFile(keyFile, 'utf8')]);
    const cert = new crypto.X509Certificate(certPem);
    const key = crypto.createPrivateKey(keyPem);
    if (!cert.checkPrivateKey(key)) throw new Error(`the fleet CA key ${keyFile} does not belong to the certificate ${certFile}`);
    if (!cert.ca) throw new Error(`the fleet CA certificate ${certFile} is not a CA certificate`);
    return new OrgSigner(certPem, key);
  }

  /** The organisation root (PEM): what devices' trust stores hold. */
  get rootPem(): string {
    return this.certPem;
  }

  /**
   * Signs an intermediate for the key in `csrPem`. `hosts`: the policy's intercepted host patterns
   * (the name constraints); null when there is no policy yet (an unconstrained intermediate, which an
   * agent that requires constraints refuses until the first policy).
   */
  async sign(csrPem: string, deviceName: string, hosts: readonly string[] | null, now = Date.now()): Promise<IntermediateChain> {
    let certificatePem: string;
    try {
      certificatePem = await signIntermediate({
        csrPem,
        issuerCertPem: this.certPem,
        issuerKey: this.key,
        permittedDns: hosts === null || hosts.length === 0 ? null : subtreesFor(hosts),
        notBefore: new Date(now - BACKDATE_MS),
        lifetimeMs: MAX_INTERMEDIATE_LIFETIME_MS,
        deviceName,
      });
    } catch (err) {
      throw new CsrRefusedError(`the CSR cannot be signed: ${(err as Error).message}`, { cause: err });
    }
    return { certificatePem, chainPem: [this.certPem] };
  }
}
