/**
 * A throwaway root CA for tests: EC P-256 keys from node:crypto, certificates built with a small
 * DER encoder. Shaped to pass strict verifiers (Python 3.13's VERIFY_X509_STRICT, `openssl verify
 * -x509_strict`): critical basicConstraints and keyUsage on the CA, SKI on both, AKI, SAN and EKU
 * serverAuth on leaves (FIELD-NOTES "Certificates").
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bitString,
  boolean,
  contextTag,
  integer,
  octetString,
  oid,
  sequence,
  set,
  time,
  toPem,
  utf8String,
} from './der.js';

const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Leaves live 45 days, as the agent's own leaves do (CA/Browser Forum ballot SC-081). */
const LEAF_LIFETIME_MS = 45 * DAY_MS;
/** Backdated an hour so a slightly slow clock elsewhere still accepts the certificates. */
const BACKDATE_MS = HOUR_MS;

/** A leaf certificate and its private key, both PEM. */
export interface IssuedLeaf {
  /** The leaf certificate (PEM). */
  readonly cert: string;
  /** The leaf's PKCS#8 private key (PEM). */
  readonly key: string;
}

/** A root CA that lives for one test file. */
export interface TestCa {
  /** The root certificate (PEM): what a client must trust. */
  readonly caPem: string;
  /** The root certificate written to a temporary folder (for curl, Python, NODE_EXTRA_CA_CERTS). */
  readonly caFile: string;
  /** The root's private key (PKCS#8 PEM), for tests that hand it to the agent as its CA. */
  readonly keyPem: string;
  /** Issues a serverAuth leaf whose SAN lists `hosts` (DNS names or IP addresses). */
  issue(hosts: readonly string[]): IssuedLeaf;
  /** Deletes the temporary folder. */
  dispose(): Promise<void>;
}

interface KeyPair {
  readonly privateKey: KeyObject;
  readonly spki: Buffer;
  /** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
  readonly keyId: Buffer;
}

function ecKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([
    Buffer.from([0x04]),
    Buffer.from(jwk.x ?? '', 'base64url'),
    Buffer.from(jwk.y ?? '', 'base64url'),
  ]);
  return {
    privateKey,
    spki: publicKey.export({ type: 'spki', format: 'der' }),
    keyId: createHash('sha1').update(point).digest(),
  };
}

function name(commonName: string): Buffer {
  return sequence(
    set(sequence(oid(OID.organization), utf8String('Outpost tests'))),
    set(sequence(oid(OID.commonName), utf8String(commonName))),
  );
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

/** A positive 16-byte serial (RFC 5280 §4.1.2.2 allows up to 20 octets). */
function serial(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f | 0x01;
  return bytes;
}

function subjectAltName(hosts: readonly string[]): Buffer {
  const names = hosts.map((host) => {
    const family = isIP(host);
    if (family === 4) return contextTag(7, Buffer.from(host.split('.').map(Number)), false);
    if (family === 6) return contextTag(7, ipv6Bytes(host), false);
    return contextTag(2, Buffer.from(host, 'ascii'), false);
  });
  return sequence(...names);
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const groups = address.includes('::') ? [...headGroups, ...zeros, ...tailGroups] : headGroups;
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

interface CertificateSpec {
  readonly subject: Buffer;
  readonly issuer: Buffer;
  readonly subjectKey: KeyPair;
  readonly issuerKey: KeyPair;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly extensions: Buffer[];
}

function buildCertificate(spec: CertificateSpec): string {
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const tbs = sequence(
    contextTag(0, integer(2), true), // v3
    integer(serial()),
    algorithm,
    spec.issuer,
    sequence(time(spec.notBefore), time(spec.notAfter)),
    spec.subject,
    spec.subjectKey.spki,
    contextTag(3, sequence(...spec.extensions), true),
  );
  const signature = sign('sha256', tbs, spec.issuerKey.privateKey); // DER ECDSA-Sig-Value
  return toPem('CERTIFICATE', sequence(tbs, algorithm, bitString(signature)));
}

/**
 * Creates a root CA (valid from an hour ago for ten years) and writes its certificate to a fresh
 * temporary folder. Call `dispose()` in `afterAll`.
 */
export async function createTestCa(commonName = 'Outpost Test Root CA'): Promise<TestCa> {
  const root = ecKeyPair();
  const rootName = name(commonName);
  const now = Date.now();
  const caPem = buildCertificate({
    subject: rootName,
    issuer: rootName,
    subjectKey: root,
    issuerKey: root,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + 3650 * DAY_MS),
    extensions: [
      extension(OID.basicConstraints, true, sequence(boolean(true))),
      // keyCertSign (bit 5) and cRLSign (bit 6): 0b0000_0110, one unused bit.
      extension(OID.keyUsage, true, bitString(Buffer.from([0x06]), 1)),
      extension(OID.subjectKeyIdentifier, false, octetString(root.keyId)),
      extension(OID.authorityKeyIdentifier, false, sequence(contextTag(0, root.keyId, false))),
    ],
  });
  const dir = await mkdtemp(join(tmpdir(), 'outpost-test-ca-'));
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, caPem);

  function issue(hosts: readonly string[]): IssuedLeaf {
    if (hosts.length === 0) throw new Error('issue() needs at least one host');
    const leaf = ecKeyPair();
    const issuedAt = Date.now();
    const cert = buildCertificate({
      subject: name(hosts[0] ?? 'leaf'),
      issuer: rootName,
      subjectKey: leaf,
      issuerKey: root,
      notBefore: new Date(issuedAt - BACKDATE_MS),
      notAfter: new Date(issuedAt + LEAF_LIFETIME_MS),
      extensions: [
        extension(OID.basicConstraints, true, sequence()),
        // digitalSignature (bit 0): ECDHE-ECDSA handshakes sign with the leaf key.
        extension(OID.keyUsage, true, bitString(Buffer.from([0x80]), 7)),
        extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))),
        extension(OID.subjectAltName, false, subjectAltName(hosts)),
        extension(OID.subjectKeyIdentifier, false, octetString(leaf.keyId)),
        extension(OID.authorityKeyIdentifier, false, sequence(contextTag(0, root.keyId, false))),
      ],
    });
    const key = leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    return { cert, key };
  }

  return {
    caPem,
    caFile,
    keyPem: root.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    issue,
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
