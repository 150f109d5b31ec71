/**
 * What upstream TLS trusts: Node's bundled roots, the OS store (Node 20 has no
 * `tls.getCACertificates('system')`, so the system bundle file is read once, asynchronously) and
 * `upstream.caFile`. Built into one SecureContext at start, because passing a `ca` array to every
 * `tls.connect` would parse ~150 certificates per connection.
 */
import fs from 'node:fs/promises';
import tls from 'node:tls';

/** Where Linux distributions and macOS keep the OS bundle; the first that reads wins. */
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu, Alpine
  '/etc/pki/tls/certs/ca-bundle.crt', // Fedora, RHEL
  '/etc/ssl/ca-bundle.pem', // openSUSE
  '/etc/ssl/cert.pem', // macOS, BSD
];

async function readFirst(paths: readonly string[]): Promise<string | null> {
  for (const p of paths) {
    const text = await fs.readFile(p, 'utf8').catch(() => null);
    if (text !== null) return text;
  }
  return null;
}

/**
 * The secure context for upstream connections. A missing system bundle is not an error (Windows,
 * minimal containers: Node's own roots remain); an unreadable `caFile` is, because the
 * administrator named it.
 */
export async function loadUpstreamTrust(caFile: string | null, systemBundles: readonly string[] = SYSTEM_BUNDLES): Promise<tls.SecureContext> {
  const ca: string[] = [...tls.rootCertificates];
  const system = await readFirst(systemBundles);
  if (system !== null) {
    // Most OS roots are also Node's: add only the others, so the store holds each root once.
    const known = new Set(ca.map(normalise));
    for (const pem of splitPem(system)) if (!known.has(normalise(pem))) ca.push(pem);
  }
  if (caFile !== null) {
    const extra = await fs.readFile(caFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new Error(`cannot read upstream.caFile ${caFile}: ${err.code ?? err.message}`);
    });
    ca.push(extra);
  }
  return tls.createSecureContext({ ca });
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle, one PEM block each. */
export function splitPem(bundle: string): string[] {
  return bundle.match(PEM_BLOCK) ?? [];
}

function normalise(pem: string): string {
  return pem.replace(/\s+/g, '');
}
