/**
 * The agent's checks on a signed policy, with real Ed25519 keys and a real store: an older version,
 * a bad signature, an invalid document and a version mismatch are each refused with their reason and
 * leave the policy in force; a valid newer one is applied and kept as it travelled.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPolicy } from '../../../shared/protocol/policy-signature.js';
import { openAgentStore, type AgentStore } from '../../../agent/agent-store.js';
import { SignedPolicySync, loadKeptSignedPolicy } from '../../../agent/sync/signed-policy.js';
import type { Policy } from '../../../shared/schema/policy.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const doc = (version: number, extra: object = {}): object => ({ version, name: `p${version}`, interception: { hosts: ['api.openai.com'] }, ...extra });

describe('SignedPolicySync', () => {
  const keys = crypto.generateKeyPairSync('ed25519');
  let dir: string;
  let store: AgentStore;
  const applied: Array<{ policy: Policy; source: string }> = [];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-signed-'));
    store = openAgentStore({ home: dir, audit: { spoolMaxBytes: 1e9 } }, { backgroundCheckpoints: false });
  });
  afterAll(async () => {
    await store.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('applies a newer valid version, keeps it, and refuses everything else with its reason', async () => {
    const sync = new SignedPolicySync({ key: keys.publicKey, state: store.state, apply: async (policy, source) => void applied.push({ policy, source }), logger: silent }, null);
    const v2 = { ...signPolicy(keys.privateKey, 2, doc(2)), signedAt: 'now' };
    expect(await sync.receive(v2)).toBe('applied');
    expect(applied.at(-1)).toMatchObject({ source: 'gateway (signed v2)', policy: { name: 'p2' } });
    expect(await sync.receive(v2)).toBe('current');

    const cases: Array<[object, string]> = [
      [{ ...signPolicy(keys.privateKey, 1, doc(1)), signedAt: 'now' }, 'version 1 is older than version 2 in force'],
      [{ ...signPolicy(crypto.generateKeyPairSync('ed25519').privateKey, 3, doc(3)), signedAt: 'now' }, 'the signature does not verify against the gateway key pinned at enrollment'],
      [{ ...signPolicy(keys.privateKey, 3, doc(3)), document: doc(3, { name: 'edited' }), signedAt: 'now' }, 'the signature does not verify against the gateway key pinned at enrollment'],
      [{ ...signPolicy(keys.privateKey, 3, doc(3, { failMode: 'sometimes' })), signedAt: 'now' }, 'the document is not a valid policy: $.failMode'],
      [{ ...signPolicy(keys.privateKey, 4, doc(3)), signedAt: 'now' }, 'the document says version 3, the signature covers version 4'],
    ];
    for (const [signed, reason] of cases) {
      expect(await sync.receive(signed as never)).toBe('refused');
      expect(sync.refused?.reason).toContain(reason);
    }
    expect(applied).toHaveLength(1);
    expect(sync.version).toBe(2);

    // Kept as it travelled, verified again when read back; a different pinned key refuses it.
    expect(loadKeptSignedPolicy(keys.publicKey, store.state, silent)).toMatchObject({ version: 2, policy: { name: 'p2' } });
    expect(loadKeptSignedPolicy(crypto.generateKeyPairSync('ed25519').publicKey, store.state, silent)).toBeNull();

    const v5 = { ...signPolicy(keys.privateKey, 5, doc(5)), signedAt: 'now' };
    expect(await sync.receive(v5)).toBe('applied');
    expect(sync.refused).toBeNull();
  });
});
