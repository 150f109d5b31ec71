/**
 * The combined bundle: the OS roots plus our CA, in `<home>/ca/bundle.pem`. The variables that
 * *replace* a trust store (`SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`, `CURL_CA_BUNDLE`, `GIT_SSL_CAINFO`,
 * …, set by `outpost env`) point at it, because hosts Outpost does not intercept still present
 * public chains (FIELD-NOTES "Sending traffic to the agent"). Rewritten at start and whenever the CA
 * changes, atomically, so a tool never reads half a bundle.
 */
import path from 'node:path';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { fromPem, toPem } from '../../shared/x509/pem.js';
import { readFileOrNull, writeFileAtomic } from '../system/files.js';

/** System bundles of the common Linux families (and BSD-style), in lookup order. */
export const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/ca-bundle.pem', '/etc/ssl/cert.pem'];

/** The bundle path under an agent home. */
export function bundlePath(home: string): string {
  return path.join(home, 'ca', 'bundle.pem');
}

/**
 * The OS roots as PEM blocks: the first system bundle found, or Node's copy of the Mozilla store
 * where the OS keeps its roots outside files (macOS keychain, Windows store).
 */
export async function osRoots(candidates: readonly string[] = SYSTEM_BUNDLES): Promise<{ source: string; certs: Buffer[] }> {
  for (const file of candidates) {
    const text = await readFileOrNull(file);
    if (text !== null) return { source: file, certs: fromPem(text, 'CERTIFICATE') };
  }
  return { source: 'Node.js built-in Mozilla roots', certs: tls.rootCertificates.flatMap((pem) => fromPem(pem, 'CERTIFICATE')) };
}

/**
 * Writes the bundle: OS roots (without any copy of a CA this agent issued, which the system bundle
 * holds once `ca trust` ran) and then `caPem`. Resolves to the path and the root source.
 */
export async function writeBundle(home: string, caPem: string, candidates?: readonly string[]): Promise<{ path: string; source: string; count: number }> {
  const ours = new X509Certificate(caPem);
  const { source, certs } = await osRoots(candidates);
  const seen = new Set<string>();
  const blocks: string[] = [];
  for (const der of certs) {
    const key = der.toString('base64');
    if (seen.has(key) || der.equals(ours.raw) || isOurs(der, ours)) continue;
    seen.add(key);
    blocks.push(toPem(der, 'CERTIFICATE'));
  }
  blocks.push(toPem(ours.raw, 'CERTIFICATE'));
  const file = bundlePath(home);
  await writeFileAtomic(file, blocks.join(''));
  return { path: file, source, count: blocks.length };
}

/** An earlier root of ours has the same subject (the key id in its CN changes only on rotation). */
function isOurs(der: Buffer, ours: X509Certificate): boolean {
  try {
    return new X509Certificate(der).subject === ours.subject;
  } catch {
    return false;
  }
}
