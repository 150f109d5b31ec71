/**
 * One JSON request to the gateway over HTTP(S) with the gateway's TLS settings (agent/sync/
 * gateway-tls.ts): the verified roots, the host name check and the optional key pin. Failures come
 * back as `SyncError`s that say whether the network, TLS or the answer was at fault, and never
 * carry the request body (it may hold a token).
 */
import http from 'node:http';
import https from 'node:https';
import { SyncError } from './errors.js';
import type { GatewayTlsOptions } from './gateway-tls.js';

/** The answer: status and parsed JSON (null when the body was not JSON). */
export interface JsonAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** Largest answer read (an enrollment answer is a few KB with a certificate chain). */
const MAX_ANSWER_BYTES = 1024 * 1024;

/** TLS error codes Node reports for a certificate that does not verify. */
const TLS_CODES = /^(ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_SSL_|HOSTNAME_MISMATCH)/;

/** POSTs `body` as JSON to `url`; `tls` applies to `https:` only. */
export function postJson(url: string, body: unknown, tls: GatewayTlsOptions, timeoutMs = 30_000): Promise<JsonAnswer> {
  const u = new URL(url);
  const payload = Buffer.from(JSON.stringify(body));
  const options: https.RequestOptions = {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': String(payload.length), accept: 'application/json' },
    timeout: timeoutMs,
    ...(u.protocol === 'https:' ? { secureContext: tls.secureContext, checkServerIdentity: tls.checkServerIdentity, agent: false } : { agent: false }),
  };
  return new Promise((resolve, reject) => {
    const req = (u.protocol === 'https:' ? https : http).request(u, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          req.destroy(new SyncError('SYNC_GATEWAY_UNREACHABLE', `the gateway's answer is larger than ${MAX_ANSWER_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? 0, body: json });
      });
      res.on('error', (err) => reject(networkError(u, err)));
    });
    req.on('timeout', () => req.destroy(new SyncError('SYNC_GATEWAY_UNREACHABLE', `the gateway at ${u.host} did not answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(networkError(u, err)));
    req.end(payload);
  });
}

/** Classifies a connection failure. */
export function networkError(u: URL, err: Error): SyncError {
  if (err instanceof SyncError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (TLS_CODES.test(code) || /certificate|self[- ]signed/i.test(err.message)) {
    return new SyncError('SYNC_GATEWAY_TLS', `the gateway's TLS certificate at ${u.host} does not verify: ${err.message} (name its CA with gateway.caFile)`, { cause: err });
  }
  return new SyncError('SYNC_GATEWAY_UNREACHABLE', `cannot reach the gateway at ${u.host}: ${code === '' ? err.message : code}`, { cause: err });
}
