/**
 * Re-signing a Bedrock request the agent had to change (a redaction): AWS SigV4 over the new body,
 * with credentials the policy gives the device (`bedrock.resignWith`, a keychain secret holding
 * JSON `{ "accessKeyId", "secretAccessKey", "sessionToken"? }`). The signer is the AWS SDK's own
 * (`@smithy/signature-v4`); the region and service come from the host and the client's credential
 * scope. Without such credentials a changed request is blocked instead (the client's signature
 * would fail at AWS).
 */
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { z } from 'zod';

/** The keychain secret's shape. */
export const awsCredentials = z.strictObject({
  accessKeyId: z.string().min(16, 'expected an AWS access key id'),
  secretAccessKey: z.string().min(1),
  sessionToken: z.string().min(1).optional(),
});
export type AwsCredentials = z.infer<typeof awsCredentials>;

const REGION = /^bedrock-runtime(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com$/;

/** Headers the new signature covers: the client's own, minus what the agent or the transport sets. */
const UNSIGNED = new Set(['authorization', 'content-length', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256', 'user-agent', 'x-outpost-vk']);

/** A request to re-sign. */
export interface SignableRequest {
  readonly host: string;
  /** Path and query as sent. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | number | undefined>>;
  readonly body: Buffer;
}

/** The request's headers, re-signed for `body` with `credentials` at `now` (epoch ms). */
export async function resign(request: SignableRequest, credentials: AwsCredentials, now: number): Promise<Record<string, string>> {
  const region = REGION.exec(request.host)?.[1];
  if (region === undefined) throw new Error(`cannot re-sign for ${request.host}: not a Bedrock runtime host`);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || UNSIGNED.has(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  headers['host'] = request.host;
  const q = request.path.indexOf('?');
  const query = Object.fromEntries(new URLSearchParams(q === -1 ? '' : request.path.slice(q + 1)));
  const signer = new SignatureV4({ service: 'bedrock', region, credentials, sha256: Hash.bind(null, 'sha256'), uriEscapePath: true });
  const signed = await signer.sign(
    { method: 'POST', protocol: 'https:', hostname: request.host, path: q === -1 ? request.path : request.path.slice(0, q), query, headers, body: request.body },
    { signingDate: new Date(now) },
  );
  return signed.headers;
}
