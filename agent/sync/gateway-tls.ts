/**
 * How the agent verifies the gateway's TLS certificate: the roots upstream connections trust (Node's,
 * the OS bundle) plus a CA file the administrator names (`gateway.caFile`, else `upstream.caFile`),
 * the usual host name check, and optionally a pin: the SHA-256 of the certificate's public key
 * (SPKI), base64, as in HPKP's `pin-sha256`. A pin survives certificate renewals that keep the key
 * and refuses a certificate some other trusted CA issued for the gateway's name.
 */
import crypto from 'node:crypto';
import tls from 'node:tls';
import { loadUpstreamTrust } from '../proxy/upstream-trust.js';
import { SyncError } from './errors.js';

/** The TLS settings of the gateway connection (as the enrollment keeps them). */
export interface GatewayTlsSettings {
  /** An extra CA (PEM file) that issued the gateway's certificate; null: the usual roots only. */
  readonly caFile: string | null;
  /** Base64 SHA-256 of the gateway certificate's SPKI; null: no pin. */
  readonly pinSha256: string | null;
}

/** Options for `https.request` and `ws` (both hand them to `tls.connect`). */
export interface GatewayTlsOptions {
  readonly secureContext: tls.SecureContext;
  readonly checkServerIdentity: (host: string, cert: tls.PeerCertificate) => Error | undefined;
}

/** `sha256/BASE64` or `BASE64` → the base64 digest; throws when it is not 32 bytes of base64. */
export function normalisePin(pin: string): string {
  const b64 = pin.trim().replace(/^sha256\//i, '');
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length !== 32 || bytes.toString('base64') !== b64) {
    throw new SyncError('SYNC_GATEWAY_TLS', `the gateway pin "${pin}" is not a base64 SHA-256 digest (expected sha256/ followed by 44 base64 characters)`);
  }
  return b64;
}

/** The pin of a certificate (DER): base64 SHA-256 of its SubjectPublicKeyInfo. */
export function spkiPinOf(certificateDer: Buffer): string {
  const spki = new crypto.X509Certificate(certificateDer).publicKey.export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(spki).digest('base64');
}

/** Builds the TLS options for the gateway (reads the CA file once). */
export async function gatewayTlsOptions(settings: GatewayTlsSettings): Promise<GatewayTlsOptions> {
  let secureContext: tls.SecureContext;
  try {
    secureContext = await loadUpstreamTrust(settings.caFile);
  } catch (err) {
    throw new SyncError('SYNC_GATEWAY_TLS', `cannot load the gateway CA: ${(err as Error).message}`, { cause: err });
  }
  const pin = settings.pinSha256 === null ? null : normalisePin(settings.pinSha256);
  return {
    secureContext,
    checkServerIdentity: (host, cert) => {
      const nameProblem = tls.checkServerIdentity(host, cert);
      if (nameProblem !== undefined) return nameProblem;
      if (pin === null) return undefined;
      const seen = spkiPinOf(cert.raw);
      if (seen === pin) return undefined;
      return new SyncError('SYNC_GATEWAY_TLS', `the gateway's certificate key (sha256/${seen}) does not match the pinned key (sha256/${pin})`);
    },
  };
}
