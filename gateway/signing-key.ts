/**
 * The central gateway's policy-signing key: Ed25519, made on first start in the gateway's home
 * (PKCS#8 PEM, mode 0600), its public half handed to agents at enrollment so they can pin it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** The key pair the gateway signs policies with. */
export interface SigningKey {
  readonly privateKey: crypto.KeyObject;
  readonly publicKey: crypto.KeyObject;
  /** SPKI PEM, what an agent pins. */
  readonly publicPem: string;
}

function fromPrivatePem(pem: string): SigningKey {
  const privateKey = crypto.createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('the gateway signing key is not an Ed25519 key');
  const publicKey = crypto.createPublicKey(privateKey);
  return { privateKey, publicKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** Loads `<home>/policy-signing.key`, creating it (0600) on first start. */
export async function loadOrCreateSigningKey(home: string): Promise<SigningKey> {
  const file = path.join(home, 'policy-signing.key');
  try {
    return fromPrivatePem(await fs.readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const { privateKey } = await new Promise<{ privateKey: crypto.KeyObject }>((resolve, reject) =>
    crypto.generateKeyPair('ed25519', {}, (err, _pub, priv) => (err ? reject(err) : resolve({ privateKey: priv }))),
  );
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  await fs.mkdir(home, { recursive: true, mode: 0o700 });
  // `wx`: two gateways starting at once must not overwrite each other's key.
  await fs.writeFile(file, pem, { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  return fromPrivatePem(await fs.readFile(file, 'utf8'));
}
