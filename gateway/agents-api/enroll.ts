/**
 * `POST /v1/agents/enroll`: a device trades a one-time enrollment token for its id and credential,
 * and learns the gateway's policy-signing key to pin. The token is spent in the same statement that
 * reads it, so two devices racing with one token cannot both enroll.
 */
import crypto from 'node:crypto';
import { enrollRequest, type EnrollResponse } from '../../shared/schema/protocol.js';
import type { Route } from '../http/router.js';
import { ApiHttpError, parseInput } from '../http/errors.js';
import { readJson, sendJson } from '../http/io.js';
import { newSecret, secretHash, tokensEqual } from '../http/bearer.js';
import type { GatewayStore } from '../store/store.js';
import type { SigningKey } from '../signing-key.js';
import type { DeviceCa } from '../ca/device-ca.js';
import { readCsr } from '../../shared/x509/csr.js';

/** The PKCE S256 challenge of a verifier (RFC 7636): base64url of its SHA-256. */
export function pkceChallenge(verifier: string): string {
  return crypto.createHash('sha256').update(verifier).digest('base64url');
}

/** The enrollment route. */
export function enrollRoute(store: GatewayStore, key: SigningKey, deviceCa: DeviceCa | null): Route {
  return {
    method: 'POST',
    path: '/v1/agents/enroll',
    handle: async ({ req, res }) => {
      const body = parseInput(enrollRequest, await readJson(req, 64 * 1024), 'the enrollment request');
      // Checked before the token is spent: the device can retry with the same token.
      if (body.csrPem !== undefined && deviceCa === null) {
        throw new ApiHttpError(409, 'fleet_ca_not_configured', 'this gateway has no organisation CA: enroll without a CSR (standalone CA mode)');
      }
      if (body.csrPem !== undefined) {
        try {
          readCsr(body.csrPem);
        } catch (err) {
          throw new ApiHttpError(400, 'invalid_request', `$.csrPem: ${(err as Error).message}`, [{ path: '$.csrPem', message: (err as Error).message }]);
        }
      }
      const now = new Date();
      const token = await store.consumeEnrollmentToken(secretHash(body.token), now);
      if (token === null) throw new ApiHttpError(401, 'invalid_token', 'the enrollment token is unknown, already used or expired: ask your administrator for a new one');
      // A token that crossed a browser (single sign-on) is redeemed only by the agent that asked for it.
      if (token.codeChallenge !== null && (body.codeVerifier === undefined || !tokensEqual(token.codeChallenge, pkceChallenge(body.codeVerifier)))) {
        throw new ApiHttpError(401, 'invalid_token', 'this single sign-on enrollment code belongs to another request (the code verifier does not match): run outpost enroll --sso again');
      }
      const deviceId = `dev-${crypto.randomUUID()}`;
      const credential = newSecret('opd_');
      await store.addDevice({ id: deviceId, credentialSha256: secretHash(credential), facts: body.device, team: token.team, enrolledAt: now.toISOString(), user: token.user });
      await store.addAdminEvent({ time: now.toISOString(), who: token.user ?? 'enrollment token', action: 'device.enrolled', detail: { deviceId, hostname: body.device.hostname, team: token.team, via: token.user === null ? 'token' : 'sso' }, before: null, after: { deviceId, team: token.team, user: token.user } });
      const intermediate = body.csrPem === undefined || deviceCa === null ? undefined : await deviceCa.issue(body.csrPem, body.device.hostname);
      const answer: EnrollResponse = { deviceId, credential, gatewayPublicKeyPem: key.publicPem, team: token.team, ...(token.user === null ? {} : { user: token.user }), ...(intermediate === undefined ? {} : { intermediate }) };
      sendJson(res, 201, answer);
    },
  };
}
