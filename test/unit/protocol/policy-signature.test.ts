import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../shared/protocol/canonical-json.js';
import { signPolicy, verifyPolicySignature } from '../../../shared/protocol/policy-signature.js';
import { loadOrCreateSigningKey } from '../../../gateway/signing-key.js';
import { exampleFile } from '../../support/repo.js';

describe('signed policy', () => {
  it('serialises the same document to the same bytes whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: null, c: 'x' }], e: undefined })).toBe('{"a":[{"c":"x","d":null}],"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });

  it('verifies a policy signed by the gateway key and refuses any change', async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-gw-'));
    const key = await loadOrCreateSigningKey(home);
    expect((await fs.stat(path.join(home, 'policy-signing.key'))).mode & 0o777).toBe(0o600);
    const document = JSON.parse(await fs.readFile(exampleFile('policy.json'), 'utf8')) as Record<string, unknown>;
    const signed = signPolicy(key.privateKey, 7, document);
    const pinned = crypto.createPublicKey(key.publicPem);
    expect(verifyPolicySignature(pinned, signed)).toBe(true);
    // Reordered keys are the same document.
    expect(verifyPolicySignature(pinned, { ...signed, document: Object.fromEntries(Object.entries(document).reverse()) })).toBe(true);
    expect(verifyPolicySignature(pinned, { ...signed, version: 8 })).toBe(false);
    expect(verifyPolicySignature(pinned, { ...signed, document: { ...document, failMode: 'closed' } })).toBe(false);
    expect(verifyPolicySignature(pinned, { ...signed, signature: 'not base64 at all!' })).toBe(false);
    const stranger = crypto.generateKeyPairSync('ed25519');
    expect(verifyPolicySignature(stranger.publicKey, signed)).toBe(false);
    expect(verifyPolicySignature(crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, signed)).toBe(false);
    // A second start reuses the key.
    expect((await loadOrCreateSigningKey(home)).publicPem).toBe(key.publicPem);
    await fs.rm(home, { recursive: true, force: true });
  });
});
