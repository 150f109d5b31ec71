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
import { newSecret, secretHash } from '../http/bearer.js';
import type { GatewayStore } from '../store/store.js';
import type { SigningKey } from '../signing-key.js';
import type { DeviceCa } from '../ca/device-ca.js';
import { readCsr } from '../../shared/x509/csr.js';

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
      const deviceId = `dev-${crypto.randomUUID()}`;
      const credential = newSecret('opd_');
      await store.addDevice({ id: deviceId, credentialSha256: secretHash(credential), facts: body.device, team: token.team, enrolledAt: now.toISOString() });
      await store.addAdminEvent({ time: now.toISOString(), who: 'enrollment token', action: 'device.enrolled', detail: { deviceId, hostname: body.device.hostname, team: token.team }, before: null, after: { deviceId, team: token.team } });
      const intermediate = body.csrPem === undefined || deviceCa === null ? undefined : await deviceCa.issue(body.csrPem, body.device.hostname);
      const answer: EnrollResponse = { deviceId, credential, gatewayPublicKeyPem: key.publicPem, team: token.team, ...(intermediate === undefined ? {} : { intermediate }) };
      sendJson(res, 201, answer);
    },
  };
}
